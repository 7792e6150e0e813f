#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The kernel suite: vfpool on a real kernel with a real SR-IOV device, in a QEMU guest.
#
#   tests/kernel/run.sh [--build DIR] [--group G]... [--only NAME]...
#
# Fetches Debian's kernel package into build/kernel/ (fetch-kernel.sh; cached), builds a
# busybox initramfs (mkinitramfs.sh), and boots each group of tests/kernel/groups/ once per
# boot it asks for, with the group's devices. The guest runs the host's own /usr and the
# binaries of DIR (default build) over read-only virtio-9p; guest/runner.sh runs the group's
# scenarios there and writes one result per scenario into a writable share. This prints
# each scenario as PASS, FAIL or SKIP with the reason and ends with
#   kernel: N passed, M failed, K skipped
# A machine that cannot run the guest (no QEMU, no kernel package reachable) gets every
# scenario skipped with the reason: loud, counted, never a pass. Known failures of the
# daemon, listed with their reason in tests/kernel/expected-failures, are reported as XFAIL
# and counted as skipped; one that passes is reported as XPASS (counted passed) so the list
# gets trimmed. Exit status: 0 unless a scenario failed.
#
# Environment: VFPOOL_KERNEL_CACHE (default build/kernel), VFPOOL_KERNEL_PKG (pin a
# package), VFPOOL_KERNEL_ACCEL=tcg|kvm (skip the probe), VFPOOL_KERNEL_SMP (guest CPUs,
# default 1), VFPOOL_KERNEL_JOBS (groups booted side by side, default 2), VFPOOL_QEMU (the
# emulator, default qemu-system-x86_64).
set -uo pipefail
cd "$(dirname "$0")/../.."
here=tests/kernel

build=build
groups=()
only=()
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift 2 ;;
	--group) groups+=("$2"); shift 2 ;;
	--only) only+=("$2"); shift 2 ;;
	*) echo "usage: $0 [--build DIR] [--group G]... [--only NAME]..." >&2; exit 2 ;;
	esac
done
if [ ${#groups[@]} -eq 0 ]; then
	for d in "$here"/groups/*/; do groups+=("$(basename "$d")"); done
fi

cache=${VFPOOL_KERNEL_CACHE:-build/kernel}
out=$cache/run
t_start=$(date +%s%N)
mkdir -p "$cache"

# ---- the scenarios ---------------------------------------------------------------------
names=()
declare -A result=() why=() ms=() xfail=()
wanted() {
	local o
	[ ${#only[@]} -eq 0 ] && return 0
	for o in "${only[@]}"; do [ "$o" = "$1" ] || [ "$o" = "${1#*/}" ] && return 0; done
	return 1
}
for g in "${groups[@]}"; do
	[ -f "$here/groups/$g/group.conf" ] || { echo "kernel: no group $g" >&2; exit 2; }
	for f in "$here/groups/$g"/[0-9]*.sh; do
		[ -e "$f" ] || continue
		n=$(basename "$f" .sh)
		n="$g/${n#*-}"
		wanted "$n" && names+=("$n")
	done
done
if [ ${#names[@]} -eq 0 ]; then
	echo "kernel: no scenario matches (groups: ${groups[*]}; --only: ${only[*]:-})" >&2
	exit 2
fi
while read -r n r; do
	[ -n "$n" ] && [ "${n:0:1}" != "#" ] && xfail[$n]=$r
done <"$here/expected-failures"

report() {
	local n line passed=0 failed=0 skipped=0 secs

	for n in "${names[@]}"; do
		line=${result[$n]:-FAIL}
		secs=
		[ -n "${ms[$n]:-}" ] && secs=" ($((ms[$n] / 1000)).$(printf %03d $((ms[$n] % 1000))) s)"
		case $line in
		PASS)
			if [ -n "${xfail[$n]:-}" ]; then
				echo "[XPASS] $n$secs: listed in $here/expected-failures (${xfail[$n]}) but" \
					"passes: remove it from the list"
			else
				echo "[PASS] $n$secs"
			fi
			passed=$((passed + 1)) ;;
		SKIP)
			echo "[SKIP] $n: ${why[$n]}"
			skipped=$((skipped + 1)) ;;
		*)
			if [ -n "${xfail[$n]:-}" ]; then
				echo "[XFAIL] $n$secs: ${xfail[$n]}; failed as expected: ${why[$n]:-no reason}"
				skipped=$((skipped + 1))
			else
				echo "[FAIL] $n$secs: ${why[$n]:-no result}"
				failed=$((failed + 1))
			fi ;;
		esac
	done
	echo "kernel suite: $(( ($(date +%s%N) - t_start) / 1000000 )) ms wall, accel ${accel:-none}," \
		"logs in $out/"
	[ -z "${suite_skipped:-}" ] || echo "kernel: the WHOLE kernel suite was SKIPPED: $suite_skipped"
	echo "kernel: $passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
}

# Every scenario not yet decided gets this outcome.
decide_rest() {
	local kind=$1 reason=$2 n

	for n in "${names[@]}"; do
		[ -n "${result[$n]:-}" ] && continue
		result[$n]=$kind
		why[$n]=$reason
	done
}

skip_all() {
	suite_skipped=$*
	echo "kernel: SKIPPING the whole kernel suite: $*" >&2
	decide_rest SKIP "$*"
	report
	exit $?
}

# ---- can this machine run the guest? -------------------------------------------------------
missing=()
qemu=${VFPOOL_QEMU:-qemu-system-x86_64}
for t in "$qemu" cpio depmod modprobe busybox xz readelf jq udevadm apt-get dpkg-deb; do
	command -v "$t" >/dev/null || missing+=("$t")
done
[ -x /usr/lib/systemd/systemd-udevd ] || missing+=(/usr/lib/systemd/systemd-udevd)
[ ${#missing[@]} -eq 0 ] ||
	skip_all "missing ${missing[*]} (\`make deps\` installs them: scripts/deps.sh)"
for b in vfpoold vfpoolctl; do
	[ -x "$build/$b" ] || { decide_rest FAIL "$build/$b not built (make all)"; report; exit 1; }
done

kdir=$(bash "$here/fetch-kernel.sh" "$cache" 2>"$cache/fetch.log")
case $? in
0) ;;
77) skip_all "no kernel to boot: $(tail -n 1 "$cache/fetch.log")" ;;
*) decide_rest FAIL "fetching the kernel failed: $(tail -n 1 "$cache/fetch.log")"; report; exit 1 ;;
esac
cat "$cache/fetch.log" >&2
vmlinuz=$(ls "$kdir"/boot/vmlinuz-* | head -n1)
# The initramfs is rebuilt when anything it is made of changed.
initrd=$cache/initramfs.cpio
key=$( { echo "$kdir"; cat "$here/mkinitramfs.sh" "$here/guest/init" "$here/modules" \
	"$(command -v busybox)" /etc/passwd /etc/group /etc/ld.so.cache 2>/dev/null; } | sha256sum)
if [ ! -s "$initrd" ] || [ "$(cat "$initrd.key" 2>/dev/null)" != "$key" ]; then
	if ! bash "$here/mkinitramfs.sh" "$kdir" "$initrd" 2>"$cache/mkinitramfs.log"; then
		decide_rest FAIL "building the initramfs failed: $(tail -n 1 "$cache/mkinitramfs.log")"
		report
		exit 1
	fi
	echo "$key" >"$initrd.key"
fi

qemu_common=("$qemu" -nodefaults -display none -monitor none -no-reboot -m 1024
	-kernel "$vmlinuz" -initrd "$initrd")

# KVM only when it is fast here: nested KVM can be far slower than TCG (a boot that does
# not finish in minutes). The probe boots to /init and powers off; its verdict is cached.
choose_accel() {
	local f=$cache/accel.$(basename "$kdir") log=$cache/accel-probe.log

	if [ -n "${VFPOOL_KERNEL_ACCEL:-}" ]; then
		accel=$VFPOOL_KERNEL_ACCEL
		return
	fi
	if [ -s "$f" ]; then
		read -r accel <"$f"
		return
	fi
	accel=tcg
	# a subshell: a QEMU that aborts (it does, on some nested KVM) is reported by it, quietly
	if [ -w /dev/kvm ] &&
	   (timeout -k 2 8 "${qemu_common[@]}" -accel kvm -cpu host -machine q35 -serial "file:$log" \
		-append "console=ttyS0 panic=-1 ktest.probe") >/dev/null 2>&1 &&
	   grep -q 'probe reached init' "$log"; then
		accel=kvm
	fi
	echo "$accel" >"$f"
}
choose_accel
if [ "$accel" = kvm ]; then
	cpu=(-accel kvm -cpu host)
else
	cpu=(-accel tcg -cpu max)
fi
# One vCPU: the guests' work is sequential, and with two, TCG can catch the kernel patching
# its own text on one vCPU while the other runs it (an int3 Oops at boot, seen here).
smp=${VFPOOL_KERNEL_SMP:-1}

# ---- one group: its boots, then its results ------------------------------------------------
# The scenarios of group $1 that this run selected.
group_list() {
	local n

	for n in "${names[@]}"; do
		[ "${n%%/*}" = "$1" ] && echo "${n#*/}"
	done
}

# One boot of group $1 (boot $3 of $4, results in $2), bounded by $5 seconds, running the
# scenarios $6 (comma-separated).
qemu_boot() {
	local g=$1 dir=$2 b=$3 boots=$4 limit=$5 list=$6

	# no_timer_check: under TCG on a loaded host the kernel's IO-APIC timer check can miss
	# its ticks, and with interrupt remapping that is a panic, not a fallback
	timeout -k 5 "$limit" "${qemu_common[@]}" "${cpu[@]}" -smp "$smp" \
		-machine q35,kernel-irqchip=split -device intel-iommu,intremap=on \
		"${QEMU_DEVICES[@]}" \
		-virtfs local,path=/usr,mount_tag=usr,security_model=none,readonly=on \
		-virtfs "local,path=$PWD,mount_tag=src,security_model=none,readonly=on" \
		-virtfs "local,path=$dir/results,mount_tag=results,security_model=none" \
		-virtfs "local,path=$dir/persist,mount_tag=persist,security_model=none" \
		-serial "file:$dir/console-boot$b.log" \
		-append "console=ttyS0 intel_iommu=on no_timer_check panic=-1 loglevel=4 \
ktest.group=$g ktest.boot=$b ktest.boots=$boots ktest.build=$build ktest.only=$list" \
		>"$dir/qemu-boot$b.log" 2>&1
}

# Boots group $1 as often as it asks; writes $out/$1/verdict: what every scenario without a
# result gets. Runs in the background, beside other groups.
boot_group() {
	local g=$1 dir=$out/$1 b QEMU_DEVICES=() BOOTS=1 BOOT_TIMEOUT list rc line t0 n t

	list=$(group_list "$g" | paste -sd, -)
	# a boot is bounded by its scenarios' own timeouts (runner.sh), plus the boot itself
	BOOT_TIMEOUT=120
	for n in $(group_list "$g"); do
		t=$(sed -n 's/^# timeout: *\([0-9]*\).*/\1/p' "$here/groups/$g"/[0-9]*-"$n".sh | head -n1)
		BOOT_TIMEOUT=$((BOOT_TIMEOUT + ${t:-60} + 5))
	done
	# shellcheck source=/dev/null
	source "$here/groups/$g/group.conf"
	rm -rf "$dir"
	mkdir -p "$dir/results" "$dir/persist"
	line="no result after boot $BOOTS"
	for ((b = 1; b <= BOOTS; b++)); do
		t0=$(date +%s%N)
		qemu_boot "$g" "$dir" "$b" "$BOOTS" "$BOOT_TIMEOUT" "$list"
		rc=$?
		# A kernel that died before userspace is the emulator's trouble, not a result: one
		# more try, said out loud. A guest that reached the runner is never booted again.
		if [ ! -e "$dir/results/boot$b.started" ] && [ ! -s "$dir/results/init-failed" ]; then
			echo "kernel: group $g boot $b: the guest died before userspace" \
				"($(grep -m1 -E 'Oops|panic|BUG' "$dir/console-boot$b.log")); booting it again" >&2
			mv "$dir/console-boot$b.log" "$dir/console-boot$b.failed.log"
			qemu_boot "$g" "$dir" "$b" "$BOOTS" "$BOOT_TIMEOUT" "$list"
			rc=$?
		fi
		echo "kernel: group $g boot $b/$BOOTS: $(( ($(date +%s%N) - t0) / 1000000 )) ms," \
			"qemu exit $rc" >&2
		if [ -s "$dir/results/init-failed" ]; then
			line="guest boot $b failed: $(cat "$dir/results/init-failed")"
			break
		fi
		if [ ! -e "$dir/results/boot$b.done" ]; then
			case $rc in
			124 | 137) line="guest boot $b did not finish within $BOOT_TIMEOUT s" ;;
			*) line="guest boot $b ended early (qemu exit $rc: $(tail -n 1 "$dir/qemu-boot$b.log"))" ;;
			esac
			line+="; console: $dir/console-boot$b.log"
			break
		fi
	done
	echo "$line" >"$dir/verdict"
}

collect_group() {
	local g=$1 dir=$out/$1 n kind rest

	for n in $(group_list "$g"); do
		if [ -s "$dir/results/$n.result" ]; then
			read -r kind rest <"$dir/results/$n.result"
			result[$g/$n]=$kind
			why[$g/$n]=$rest
			[ -s "$dir/results/$n.ms" ] && ms[$g/$n]=$(cat "$dir/results/$n.ms")
			[ "$kind" = PASS ] || why[$g/$n]+=" [log: $dir/results/$n.log]"
		else
			result[$g/$n]=FAIL
			why[$g/$n]=$(cat "$dir/verdict" 2>/dev/null || echo "the group did not run")
		fi
	done
}

# Groups run side by side (VFPOOL_KERNEL_JOBS, default 2): each guest is mostly one busy
# vCPU. The group with the most scenarios starts first, so the longest is not last.
jobs=${VFPOOL_KERNEL_JOBS:-2}
order=$(for g in "${groups[@]}"; do echo "$(group_list "$g" | wc -l) $g"; done |
	sort -rn | awk '$1 > 0 { print $2 }')
for g in $order; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n
	done
	boot_group "$g" &
done
wait
for g in $order; do
	collect_group "$g"
done
report
