#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# mkinitramfs.sh KERNEL_DIR OUT: builds the guest's initramfs (an uncompressed newc cpio:
# nothing to decompress under TCG) from an unpacked kernel package (fetch-kernel.sh).
#
# It holds only what the guest needs before its shares are mounted: a static busybox, the
# modules of tests/kernel/modules with their dependencies (resolved by depmod and
# `modprobe --show-depends` against the package, decompressed so busybox insmod loads them,
# with a depmod'ed tree for kmod's modprobe later), a few files of /etc, and /init. The rest
# of userland is this host's own /usr, shared read-only over virtio-9p; /bin, /sbin, /lib
# and /lib64 point into it as they do here (usrmerge).
set -euo pipefail

kdir=${1:?usage: mkinitramfs.sh KERNEL_DIR OUT}
out=${2:?usage: mkinitramfs.sh KERNEL_DIR OUT}
here=$(cd "$(dirname "$0")" && pwd)
die() { echo "mkinitramfs: $*" >&2; exit 1; }

ver=$(basename "$(ls -d "$kdir"/lib/modules/*/)")
[ -n "$ver" ] || die "$kdir: no lib/modules/<version>"
busybox=$(command -v busybox) || die "busybox not found (package busybox-static)"
# no program interpreter: static, so it runs before the guest's /usr (and its ld.so) is there
readelf -l "$busybox" | grep -q 'program interpreter' &&
	die "$busybox is not static (install busybox-static)"
for l in bin sbin lib lib64; do
	[ -L "/$l" ] || die "/$l is not a symlink into /usr: the guest shares /usr only (usrmerge)"
done

# The package ships no modules.dep; depmod once into the cache (kept with the tree).
if [ ! -s "$kdir/lib/modules/$ver/modules.dep" ]; then
	depmod -b "$kdir" "$ver" || die "depmod -b $kdir $ver failed"
fi

stage=$(mktemp -d "$out.stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bb,etc,proc,sys,dev,run,tmp,var,usr,src,results,persist,kmod}
for l in bin sbin lib lib64; do
	ln -s "$(readlink "/$l")" "$stage/$l"
done
cp "$busybox" "$stage/bb/busybox"
install -m 0755 "$here/guest/init" "$stage/init"
# accounts for udev rules' groups, the loader's cache; nothing secret
cp /etc/passwd /etc/group "$stage/etc/"
[ -f /etc/ld.so.cache ] && cp /etc/ld.so.cache "$stage/etc/"
echo vfpool-guest >"$stage/etc/hostname"

# Load order: every module's dependencies first, each once. Host modprobe configuration is
# ignored (-C /dev/null): the options are the ones tests/kernel/modules gives.
mods=$stage/kmod/lib/modules/$ver
mkdir -p "$mods"
cp "$kdir/lib/modules/$ver"/modules.{order,builtin,builtin.modinfo} "$mods/"
: >"$stage/kmod/load-order"
declare -A seen=()
while read -r name opts; do
	[ -n "$name" ] && [ "${name:0:1}" != "#" ] || continue
	deps=$(modprobe -C /dev/null -d "$kdir" -S "$ver" --show-depends "$name") ||
		die "module $name: not in $kdir"
	while read -r kind path _; do
		[ "$kind" = insmod ] || continue # builtin: nothing to load
		rel=${path#"$kdir/lib/modules/$ver/"}
		plain=${rel%.xz}
		plain=${plain%.zst}
		[ -z "${seen[$plain]:-}" ] || continue
		seen[$plain]=1
		mkdir -p "$mods/$(dirname "$plain")"
		case $rel in
		*.xz) xz -dc "$path" >"$mods/$plain" ;;
		*.zst) zstd -qdc "$path" >"$mods/$plain" ;;
		*) cp "$path" "$mods/$plain" ;;
		esac
		# the options belong to the module named in the list, not to its dependencies
		if [ "$(basename "${plain%.ko}" | tr - _)" = "$(tr - _ <<<"$name")" ]; then
			echo "$plain $opts" >>"$stage/kmod/load-order"
		else
			echo "$plain" >>"$stage/kmod/load-order"
		fi
	done <<<"$deps"
done <"$here/modules"
depmod -b "$stage/kmod" "$ver" || die "depmod of the guest's modules failed"
# the kernel's request_module() runs this: kmod's modprobe over the guest's own tree
cat >"$stage/kmod/modprobe" <<'EOF'
#!/bin/sh
exec /usr/sbin/modprobe -d /kmod "$@"
EOF
chmod 0755 "$stage/kmod/modprobe"

(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) >"$out.tmp"
mv "$out.tmp" "$out"
