#!/usr/bin/env bash
# install_check.sh BUILD_DIR RUN_DIR DESTDIR
# Installs vfpool into DESTDIR (PREFIX=/usr) from the source tree, checks the layout a
# package needs, then builds the installed example launcher with nothing but the installed
# headers and `pkg-config --cflags --libs vfpool`, and runs it against the daemon serving
# RUN_DIR. Prints the launcher's output; exits non-zero with the reason on any failure.
set -euo pipefail
build=$1 run_dir=$2 dest=$3
cd "$(dirname "$0")/.."
die() { echo "install_check: $*" >&2; exit 1; }

case $build in
build) san= ;;
build/*) san=${build#build/} ;;
*) die "$build: not a build directory of this tree (build or build/SAN)" ;;
esac
# a make running this test must not hand its jobserver to this one
unset MAKEFLAGS MFLAGS MAKELEVEL
make -s install SAN="$san" DESTDIR="$dest" PREFIX=/usr >&2 || die "make install failed"

lib=$dest/usr/lib
for f in usr/sbin/vfpoold usr/bin/vfpoolctl usr/include/vfpool/vfpool.h \
	 usr/lib/pkgconfig/vfpool.pc usr/share/man/man8/vfpoold.8 usr/share/man/man8/vfpoolctl.8 \
	 usr/share/man/man3/libvfpool.3 usr/lib/sysusers.d/vfpool.conf usr/lib/tmpfiles.d/vfpool.conf \
	 usr/share/doc/vfpool/examples/launcher.c; do
	[ -f "$dest/$f" ] || die "$f not installed"
done
[ "$(readlink "$lib/libvfpool.so")" = libvfpool.so.1 ] || die "libvfpool.so does not point to libvfpool.so.1"
[ "$(readlink "$lib/libvfpool.so.1")" = libvfpool.so.1.0.0 ] || die "libvfpool.so.1 does not point to the real file"
soname=$(objdump -p "$lib/libvfpool.so.1.0.0" | awk '$1 == "SONAME" { print $2 }')
[ "$soname" = libvfpool.so.1 ] || die "SONAME is '$soname', want libvfpool.so.1"

# pkg-config sees only DESTDIR: its .pc, its headers, its library
export PKG_CONFIG_LIBDIR=$lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$dest
unset PKG_CONFIG_PATH
flags=$(pkg-config --cflags --libs vfpool) || die "pkg-config does not know vfpool"
san_flags=()
[ "$san" = asan ] && san_flags=(-fsanitize=address,undefined)
cc -std=c17 -Wall -Wextra -Werror "${san_flags[@]}" "$dest/usr/share/doc/vfpool/examples/launcher.c" \
	$flags -o "$dest/launcher" || die "the example does not build against the installed files"
LD_LIBRARY_PATH=$lib "$dest/launcher" --run-dir "$run_dir" vm-installed red blue \
	|| die "the installed example failed against $run_dir"

# one page per function: man finds vfpool_alloc(3) among the installed pages
man -M "$dest/usr/share/man" 3 vfpool_alloc 2>/dev/null | grep -q 'vfpool_alloc' \
	|| die "man vfpool_alloc finds no page"

# the Python module, where Debian's python3 looks, with the library it was installed with
# (the module looks in LIBDIR; under DESTDIR that is VFPOOL_LIBRARY's job)
py=$dest/usr/lib/python3/dist-packages/vfpool/__init__.py
[ -f "$py" ] || die "the Python module is not installed"
grep -q "_INSTALLED_LIBDIR = \"/usr/lib\"" "$py" || die "the module does not know LIBDIR"
PYTHONPATH=$dest/usr/lib/python3/dist-packages VFPOOL_LIBRARY=$lib/libvfpool.so.1 \
	/usr/bin/python3 -c '
import sys, vfpool
with vfpool.Client(sys.argv[1]) as c:
	l = c.alloc("vm-python", "net0", "red")
	c.release("vm-python", "net0", l.generation)
' "$run_dir" >&2 || die "the installed Python module failed against $run_dir"
