#!/usr/bin/env bash
# Installs what vfpool builds, tests and demos with, on Debian 12. Idempotent:
# only packages that are missing are installed, so a second run is a no-op.
set -euo pipefail

packages=(
	build-essential pkg-config make gcc clang llvm libclang-rt-14-dev
	liburing-dev libnl-3-dev libnl-route-3-dev libbpf-dev libelf-dev zlib1g-dev
	libudev-dev libcriterion-dev
	umockdev libumockdev-dev
	linux-libc-dev bpftool iproute2 man-db libxml2-utils
	# vfpoolctl's JSON; the ABI baseline check; man page lint; the Python binding's tests
	libjson-c-dev abigail-tools mandoc python3
	# vfpool-bench's database claim baseline (sqlite_claim)
	libsqlite3-dev
	# the guest-kernel harness (tests/kernel/): QEMU with its firmware, a static busybox
	# and kmod for the initramfs, udev for systemd-udevd inside the guest, jq for the
	# scenarios' JSON; the kernel itself is fetched into build/kernel/ by the harness
	qemu-system-x86 busybox-static kmod cpio xz-utils udev jq
	# the vfio group kills the daemon at an exact syscall (strace -P ... inject=signal)
	strace
	# the Kubernetes device plugin (client/k8s): C++17 on Debian's gRPC++ (its config in
	# JSON, with json-c above)
	g++ libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
	# vfpoold's sd_notify (Type=notify); promtool (in Debian's prometheus package) checks
	# the metrics exposition in the tests
	libsystemd-dev prometheus
	# systemd-analyze verify and security rate the installed units (tests/test_units.c)
	systemd
	# /bin/kill, the units' ExecReload
	procps
)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}" >&2
	echo "deps: run 'sudo make deps' (or install them) first" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
known=()
for p in "${missing[@]}"; do
	if apt-cache show "$p" >/dev/null 2>&1; then known+=("$p"); fi
done
[ ${#known[@]} -eq 0 ] && exit 0
echo "deps: installing ${known[*]}"
apt-get install -y -qq --no-install-recommends "${known[@]}" >/dev/null
