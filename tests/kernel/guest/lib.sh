# SPDX-License-Identifier: MIT
# Helpers for the guest's scenarios: runner.sh sources this, then the scenario, into one bash
# process per scenario. A scenario passes by returning normally; it ends with kt_fail (the
# reason is its result line), kt_skip, or kt_next_boot. Any command that fails unexpectedly
# fails the scenario with the line and the command (set -e and the ERR trap below).
#
# Environment from the runner: KT_NAME (scenario), KT_BUILD (binaries under test), KT_BOOT,
# KT_BOOTS, KT_PERSIST (survives reboots of the group), KT_STATE (this boot's tmpfs),
# KT_RESULTS, KT_REASON (where the result's reason goes).
set -eEuo pipefail
# traced scenarios: each command with the time it started
PS4='+ [${EPOCHREALTIME}] '

kt_fail() {
	echo "FAIL: $*" >&2
	printf '%s\n' "$*" >"$KT_REASON"
	exit 1
}

kt_skip() {
	echo "SKIP: $*"
	printf '%s\n' "$*" >"$KT_REASON"
	exit 77
}

# For scenarios that span reboots: this boot's part is done; the runner runs the scenario
# again on the next boot of the group.
kt_next_boot() {
	echo "continues on boot $((KT_BOOT + 1))"
	exit 78
}

kt__on_err() {
	local status=$1 line=$2 cmd=$3

	[ -s "$KT_REASON" ] ||
		printf 'line %s: `%s` failed with status %s\n' "$line" "$cmd" "$status" >"$KT_REASON"
}
trap 'kt__on_err $? $LINENO "$BASH_COMMAND"' ERR

kt_log() {
	local t

	read -r t _ </proc/uptime
	echo "[$t] $*"
}

# kt_eq ACTUAL EXPECTED WHAT
kt_eq() {
	[ "$1" = "$2" ] || kt_fail "$3: got '$1', expected '$2'"
}

# kt_wait WHAT SECONDS COMMAND...: until COMMAND succeeds (it runs in this shell, so it may
# be a function), polling every 50 ms; fails naming WHAT. Waiting is for events the kernel
# or the daemon handle in their own time; a bound is a failure, never an assertion of speed.
kt_wait() {
	local what=$1 secs=$2 i
	shift 2

	for ((i = 0; i < secs * 20; i++)); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.05
	done
	kt_fail "$what: not within $secs s"
}

# ---- sysfs -------------------------------------------------------------------------------

# The PCI address of the NVMe controller with this serial (QEMU's -device nvme,serial=...).
kt_pci_of_serial() {
	local c

	for c in /sys/class/nvme/nvme*; do
		[ -e "$c/serial" ] || continue
		if [ "$(tr -d ' ' <"$c/serial")" = "$1" ]; then
			basename "$(readlink -f "$c/device")"
			return 0
		fi
	done
	kt_fail "no NVMe controller with serial $1 (is the nvme driver bound to the PF?)"
}

kt_sysfs() { cat "/sys/bus/pci/devices/$1/$2"; }

# The PF's VFs as the kernel lists them (virtfnN links), in index order, space-separated.
kt_kernel_vfs() {
	local dev=/sys/bus/pci/devices/$1 i l out=

	for ((i = 0; ; i++)); do
		[ -e "$dev/virtfn$i" ] || break
		l=$(readlink "$dev/virtfn$i")
		out+="${out:+ }${l##*/}"
	done
	echo "$out"
}

kt_iommu_group() {
	local l

	l=$(readlink "/sys/bus/pci/devices/$1/iommu_group") || return 1
	echo "${l##*/}"
}

# The driver bound to a PCI device, or nothing.
kt_driver() {
	local l

	l=$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null) || return 0
	echo "${l##*/}"
}

# Writes sriov_numvfs directly, as an administrator would: 0 first when needed.
kt_kernel_set_numvfs() {
	local pf=$1 n=$2

	if [ "$(kt_sysfs "$pf" sriov_numvfs)" != 0 ] && [ "$n" != 0 ]; then
		echo 0 >"/sys/bus/pci/devices/$pf/sriov_numvfs"
	fi
	echo "$n" >"/sys/bus/pci/devices/$pf/sriov_numvfs"
	udevadm settle --timeout=30
}

# ---- the daemon ----------------------------------------------------------------------------

KT_RUN=$KT_STATE/$KT_NAME/run
KT_STATEDIR=${KT_STATEDIR:-$KT_STATE/$KT_NAME/state}
KT_DAEMON_LOG=$KT_STATE/$KT_NAME/vfpoold.log
KT_DAEMON_PID=

kt_ctl() { "$KT_BUILD/vfpoolctl" --run-dir "$KT_RUN" "$@"; }

# The log's last lines into this scenario's log: the daemon's side of a failure.
kt_daemon_tail() {
	echo "---- vfpoold log (last 30 lines) ----"
	tail -n 30 "$KT_DAEMON_LOG" 2>/dev/null || true
	echo "----"
}

# kt_daemon_start ARGS...: vfpoold on KT_RUN/KT_STATEDIR; returns once it answers commands.
kt_daemon_start() {
	local i

	mkdir -p "$KT_RUN" "$KT_STATEDIR"
	[ -x "$KT_BUILD/vfpoold" ] || kt_fail "$KT_BUILD/vfpoold not built"
	echo "== vfpoold $*" >>"$KT_DAEMON_LOG"
	"$KT_BUILD/vfpoold" --run-dir "$KT_RUN" --state-dir "$KT_STATEDIR" --log-level debug "$@" \
		>>"$KT_DAEMON_LOG" 2>&1 &
	KT_DAEMON_PID=$!
	echo "$KT_DAEMON_PID" >>"$KT_STATE/pids"
	for ((i = 0; i < 600; i++)); do
		if ! kill -0 "$KT_DAEMON_PID" 2>/dev/null; then
			kt_daemon_tail
			wait "$KT_DAEMON_PID" && i=0 || i=$?
			kt_fail "vfpoold $* exited with status $i at start: $(tail -n 1 "$KT_DAEMON_LOG")"
		fi
		if kt_ctl help >/dev/null 2>&1; then
			kt_log "vfpoold $* running (pid $KT_DAEMON_PID)"
			return 0
		fi
		sleep 0.05
	done
	kt_daemon_tail
	kt_fail "vfpoold $* did not answer within 30 s"
}

# SIGTERM; the daemon must exit 0 (a clean shutdown).
kt_daemon_stop() {
	local rc=0

	kill -TERM "$KT_DAEMON_PID"
	wait "$KT_DAEMON_PID" || rc=$?
	[ "$rc" -eq 0 ] || { kt_daemon_tail; kt_fail "vfpoold exited with status $rc on SIGTERM"; }
	KT_DAEMON_PID=
}

kt_daemon_kill() {
	kill -KILL "$KT_DAEMON_PID"
	wait "$KT_DAEMON_PID" 2>/dev/null || true
	kt_log "vfpoold $KT_DAEMON_PID killed"
	KT_DAEMON_PID=
}

# The daemon's view, from one read of the state segment (`vfpoolctl snapshot --json`, which
# reads it without a round trip to the daemon), into KV: one jq per read, because every
# process costs tens of milliseconds under TCG. Fields are split on \x1f (not whitespace,
# so an empty driver or reason stays a field).
#   KV[pfs]                      the PFs' addresses, in the daemon's order
#   KV[pf.<pci>.<field>]         index id driver total existing free leased host_busy
#                                iommu_shared bound_other dirty vfs (addresses, by VF index)
#   KV[vf.<pci>.<field>]         pf vf group state reason
#   KV[probe.mode] KV[probe.reason]
declare -gA KV=()
kt_view() {
	local kind key f1 f2 f3 f4 f5 f6 f7 f8 f9 f10 f11 view=$KT_STATE/$KT_NAME/view.json

	kt_ctl snapshot --json >"$view" || kt_fail "vfpoolctl snapshot failed (daemon: $KT_DAEMON_LOG)"
	KV=([pfs]="")
	while IFS=$'\x1f' read -r kind key f1 f2 f3 f4 f5 f6 f7 f8 f9 f10 f11; do
		case $kind in
		pf)
			KV[pfs]+="${KV[pfs]:+ }$key"
			KV[pf.$key.index]=$f1 KV[pf.$key.id]=$f2 KV[pf.$key.driver]=$f3
			KV[pf.$key.total]=$f4 KV[pf.$key.existing]=$f5 KV[pf.$key.free]=$f6
			KV[pf.$key.leased]=$f7 KV[pf.$key.host_busy]=$f8 KV[pf.$key.iommu_shared]=$f9
			KV[pf.$key.bound_other]=$f10 KV[pf.$key.dirty]=$f11 KV[pf.$key.vfs]=""
			KV[pfidx.$f1]=$key ;;
		vf)
			KV[vf.$key.pf]=$f1 KV[vf.$key.vf]=$f2 KV[vf.$key.group]=$f3
			KV[vf.$key.state]=$f4 KV[vf.$key.reason]=$f5
			KV[pf.${KV[pfidx.$f1]}.vfs]+="${KV[pf.${KV[pfidx.$f1]}.vfs]:+ }$key" ;;
		probe)
			KV[probe.mode]=$key KV[probe.reason]=$f1 ;;
		esac
	done < <(jq -r -f "$KT_HERE/guest/view.jq" "$view")
}

# "total existing free" of a PF, from the last kt_view
kt_counts() { echo "${KV[pf.$1.total]} ${KV[pf.$1.existing]} ${KV[pf.$1.free]}"; }

# Fails unless the daemon's view of the PF (a fresh kt_view) matches the kernel's: existing
# == sriov_numvfs, the same VF addresses in index order, each in the IOMMU group sysfs names.
kt_view_matches_kernel() {
	local pf=$1 numvfs v

	kt_view
	[ -n "${KV[pf.$pf.index]:-}" ] || kt_fail "$pf: not in the daemon's view (PFs: ${KV[pfs]})"
	numvfs=$(<"/sys/bus/pci/devices/$pf/sriov_numvfs")
	kt_eq "${KV[pf.$pf.existing]}" "$numvfs" "$pf: existing VFs (daemon) vs sriov_numvfs"
	kt_eq "${KV[pf.$pf.vfs]}" "$(kt_kernel_vfs "$pf")" "$pf: VFs (daemon) vs virtfn links"
	for v in ${KV[pf.$pf.vfs]}; do
		kt_eq "${KV[vf.$v.group]}" "$(kt_iommu_group "$v")" "$v: IOMMU group (daemon) vs sysfs"
	done
}

# kt_mark; ...; kt_events KINDS ADDRS...: how many host events of the kinds (a regex:
# "vf-added", "vf-removed|pci-removed") the daemon logged since kt_mark for the devices at
# ADDRS: what reached it through udev (the daemon runs with --log-level debug, which logs
# each decoded event). A removal shows as pci-removed when the daemon had already rescanned
# the device away: udevd delivers events out of order and the daemon resyncs on a burst.
kt_mark() { KT_MARK=$(wc -l <"$KT_DAEMON_LOG"); }
kt_events() {
	local kinds=$1 addrs

	shift
	[ $# -gt 0 ] || { echo 0; return; }
	addrs=$(IFS='|'; echo "$*")
	tail -n +$((KT_MARK + 1)) "$KT_DAEMON_LOG" |
		grep -cE "event=host_event kind=($kinds) pci=($addrs) " || true
}
