#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fetch-kernel.sh CACHE_DIR: prints the directory of an unpacked Debian kernel package
# (boot/vmlinuz-*, lib/modules/*) for the guest, fetching it first when the cache has none.
#
# The kernel is Debian's own image package, fetched with `apt-get download` and unpacked
# with `dpkg-deb -x` into CACHE_DIR/<package>/: never installed on this host. The cache is
# reused across runs; a partly unpacked tree never counts (it is unpacked aside, then
# renamed). The package is the newest linux-image-<version>-amd64 apt offers whose version
# is at least MIN_KERNEL: vfpoold refuses to start without IORING_OP_FUTEX_WAIT (Linux
# 6.7), so bookworm's 6.1 cannot run it and bookworm's linux-6.12 packages are used.
# VFPOOL_KERNEL_PKG=<package> pins one.
#
# Exit 0 with the directory on stdout; exit 77 with the reason on stderr when no suitable
# package is cached or reachable (the harness turns that into a loud skip); 1 on an error.
set -euo pipefail

cache=${1:?usage: fetch-kernel.sh CACHE_DIR}
MIN_KERNEL=6.7
skip() { echo "$*" >&2; exit 77; }

# the version in a package name: linux-image-6.12.117+deb12-amd64 -> 6.12.117
version_of() { sed -E 's/^linux-image-([0-9]+(\.[0-9]+)*).*/\1/' <<<"$1"; }
new_enough() {
	[ "$(printf '%s\n%s\n' "$MIN_KERNEL" "$(version_of "$1")" | sort -V | head -n1)" = "$MIN_KERNEL" ]
}
unpacked() { compgen -G "$cache/$1/boot/vmlinuz-*" >/dev/null && [ -e "$cache/$1/.complete" ]; }

# The plain flavour only: not cloud (drivers trimmed), rt, dbg or the unsigned twin.
candidates() {
	apt-cache search --names-only '^linux-image-[0-9][0-9.+a-z-]*-amd64$' 2>/dev/null |
		awk '{ print $1 }' | grep -v -e '-cloud-' -e '-rt-' | while read -r p; do
			if new_enough "$p"; then echo "$p"; fi
		done | sort -V
}

pkg=${VFPOOL_KERNEL_PKG:-}
if [ -z "$pkg" ]; then
	# a cached kernel is used as it is: no network, and the same kernel run after run
	for d in $(ls -1 "$cache" 2>/dev/null | grep '^linux-image-' | sort -rV); do
		if unpacked "$d" && new_enough "$d"; then
			echo "$cache/$d"
			exit 0
		fi
	done
	pkg=$(candidates | tail -n1) || true
	if [ -z "$pkg" ] && [ "$(id -u)" -eq 0 ]; then
		apt-get update -qq >/dev/null 2>&1 || true # package lists may be missing or old
		pkg=$(candidates | tail -n1) || true
	fi
	[ -n "$pkg" ] || skip "no Debian kernel package linux-image-*-amd64 >= $MIN_KERNEL in" \
		"apt's lists (vfpoold needs IORING_OP_FUTEX_WAIT); run apt-get update, or set" \
		"VFPOOL_KERNEL_PKG"
fi
if unpacked "$pkg"; then
	echo "$cache/$pkg"
	exit 0
fi
command -v dpkg-deb >/dev/null || skip "dpkg-deb not found: cannot unpack $pkg"

mkdir -p "$cache"
tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# as root apt drops to _apt for the download, which cannot write here: stay root
sandbox=()
[ "$(id -u)" -ne 0 ] || sandbox=(-o APT::Sandbox::User=root)
if ! (cd "$tmp" && apt-get -q "${sandbox[@]}" download "$pkg") >"$tmp/apt.log" 2>&1; then
	skip "apt-get download $pkg failed: $(tail -n 2 "$tmp/apt.log" | tr '\n' ' ')"
fi
deb=$(ls "$tmp"/*.deb)
dpkg-deb -x "$deb" "$tmp/root"
die() { echo "$pkg: $*" >&2; exit 1; }
compgen -G "$tmp/root/boot/vmlinuz-*" >/dev/null || die "no boot/vmlinuz-* in the package"
compgen -G "$tmp/root/lib/modules/*/kernel" >/dev/null || die "no modules in the package"
touch "$tmp/root/.complete"
rm -rf "${cache:?}/$pkg"
mv "$tmp/root" "$cache/$pkg"
echo "fetch-kernel: $pkg unpacked into $cache/$pkg ($(du -sh "$cache/$pkg" | cut -f1))" >&2
echo "$cache/$pkg"
