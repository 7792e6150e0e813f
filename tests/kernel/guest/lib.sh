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
# be a function), polling every 50 ms; fails naming WHAT and, when the command set KT_SEEN,
# what it saw last. Waiting is for events the kernel or the daemon handle in their own time;
# the bound is a failure, never an assertion of speed.
kt_wait() {
	local what=$1 secs=$2 i
	shift 2

	KT_SEEN=
	for ((i = 0; i < secs * 20; i++)); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.05
	done
	kt_fail "$what: not within $secs s${KT_SEEN:+ (last seen: $KT_SEEN)}"
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
# One readlink for all: every process costs tens of milliseconds under TCG.
kt_kernel_vfs() {
	local dev=/sys/bus/pci/devices/$1 i links=() out=

	for ((i = 0; ; i++)); do
		[ -e "$dev/virtfn$i" ] || break
		links+=("$dev/virtfn$i")
	done
	[ ${#links[@]} -gt 0 ] && mapfile -t links < <(readlink "${links[@]}")
	for i in "${links[@]}"; do
		out+="${out:+ }${i##*/}"
	done
	echo "$out"
}

# The IOMMU groups of the PCI devices given, space-separated, in the same order.
kt_iommu_groups() {
	local a links=() out=

	for a in "$@"; do
		links+=("/sys/bus/pci/devices/$a/iommu_group")
	done
	mapfile -t links < <(readlink "${links[@]}")
	[ ${#links[@]} -eq $# ] || return 1
	for a in "${links[@]}"; do
		out+="${out:+ }${a##*/}"
	done
	echo "$out"
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

# kt_ctl_within SECS ARGS...: kt_ctl that fails the scenario, with the reason and the
# daemon's log, when no answer comes within SECS (a change waiting for a VF's uevent that
# never reaches it hangs otherwise, and the scenario's timeout says only "timed out").
kt_ctl_within() {
	local secs=$1 rc=0

	shift
	timeout "$secs" "$KT_BUILD/vfpoolctl" --run-dir "$KT_RUN" "$@" || rc=$?
	if [ "$rc" -eq 124 ]; then
		kt_daemon_tail
		kt_fail "vfpoolctl $*: no answer within $secs s (the daemon's log is above)"
	fi
	return "$rc"
}

# The log's last lines into this scenario's log: the daemon's side of a failure.
kt_daemon_tail() {
	echo "---- vfpoold log (last 30 lines) ----"
	tail -n 30 "$KT_DAEMON_LOG" 2>/dev/null || true
	echo "----"
}

# The guest's SR-IOV PF is QEMU's NVMe controller (1b36:0010), a storage controller that the
# default PF selector (network controllers, class 02) leaves unmanaged: the daemon manages it
# because the state dir selects it, as an operator's would (vfpoolctl pf select add).
KT_PF_SELECTORS=${KT_PF_SELECTORS:-include id=1b36:0010}

# kt_daemon_start ARGS...: vfpoold on KT_RUN/KT_STATEDIR; returns once it answers commands.
# The state dir gets KT_PF_SELECTORS unless it has selectors already.
kt_daemon_start() {
	local i

	mkdir -p "$KT_RUN" "$KT_STATEDIR"
	[ -e "$KT_STATEDIR/pf-selectors" ] ||
		printf '%s\n' "$KT_PF_SELECTORS" >"$KT_STATEDIR/pf-selectors"
	[ -x "$KT_BUILD/vfpoold" ] || kt_fail "$KT_BUILD/vfpoold not built"
	echo "== vfpoold $*" >>"$KT_DAEMON_LOG"
	${KT_NETNS:+ip netns exec "$KT_NETNS"} "$KT_BUILD/vfpoold" --run-dir "$KT_RUN" \
		--state-dir "$KT_STATEDIR" --log-level debug "$@" >>"$KT_DAEMON_LOG" 2>&1 &
	KT_DAEMON_PID=$!
	echo "$KT_DAEMON_PID" >>"$KT_STATE/pids"
	for ((i = 0; i < 600; i++)); do
		if ! kill -0 "$KT_DAEMON_PID" 2>/dev/null; then
			kt_daemon_tail
			wait "$KT_DAEMON_PID" && i=0 || i=$?
			kt_fail "vfpoold $* exited with status $i at start: $(tail -n 1 "$KT_DAEMON_LOG")"
		fi
		# ping: the daemon answers (vfpoolctl's help is its own, daemon or not)
		if kt_ctl ping >/dev/null 2>&1; then
			kt_log "vfpoold${*:+ $*} running (pid $KT_DAEMON_PID)"
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
#   KV[vf.<pci>.<field>]         pf vf group state netdev reason
#   KV[netdev.<name>]            the VF with that netdev
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
			KV[vf.$key.state]=$f4 KV[vf.$key.netdev]=$f5 KV[vf.$key.reason]=$f6
			KV[netdev.$f5]=$key
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
	local pf=$1 numvfs v daemon_groups=

	kt_view
	[ -n "${KV[pf.$pf.index]:-}" ] || kt_fail "$pf: not in the daemon's view (PFs: ${KV[pfs]})"
	numvfs=$(<"/sys/bus/pci/devices/$pf/sriov_numvfs")
	kt_eq "${KV[pf.$pf.existing]}" "$numvfs" "$pf: existing VFs (daemon) vs sriov_numvfs"
	kt_eq "${KV[pf.$pf.vfs]}" "$(kt_kernel_vfs "$pf")" "$pf: VFs (daemon) vs virtfn links"
	[ -n "${KV[pf.$pf.vfs]}" ] || return 0
	for v in ${KV[pf.$pf.vfs]}; do
		daemon_groups+="${daemon_groups:+ }${KV[vf.$v.group]}"
	done
	# shellcheck disable=SC2086 # a list of addresses
	kt_eq "$daemon_groups" "$(kt_iommu_groups ${KV[pf.$pf.vfs]})" \
		"$pf: IOMMU groups of ${KV[pf.$pf.vfs]} (daemon) vs sysfs"
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

# ---- udevd -------------------------------------------------------------------------------

# Holding udevd (SIGSTOP) holds back every uevent on its way to libudev listeners: a daemon
# waiting for VFs to come or go waits for as long as the scenario wants. kt_udev_release
# lets the queued events through and waits until they are handled.
kt_udev_hold() { kill -STOP "$(<"$KT_STATE/udevd.pid")"; }
kt_udev_release() {
	kill -CONT "$(<"$KT_STATE/udevd.pid")"
	udevadm settle --timeout=30
}

# ---- the link probe on stand-in VF netdevs ---------------------------------------------------

# The daemon on a simulated host of 1 PF x 4 VFs (netdevs ens1f0v0..3) in a network
# namespace of the scenario's own, where veth devices of those names stand in for the VF
# netdevs: the probe (--probe bpf|fallback) watches the real kernel's link events, with the
# 802.1Q and bonding this guest's kernel has. In bpf mode the filter must have loaded: a
# silent fallback would test the other mode twice. (Real-mode scenarios stay in the initial
# namespace: udevd's events reach only that one.)
KT_NETNS=
kt_probe_rig() {
	local mode=$1 i

	KT_NETNS=kt-$KT_NAME
	ip netns add "$KT_NETNS"
	for i in 0 1 2 3; do
		ip -n "$KT_NETNS" link add "ens1f0v$i" type veth peer name "ens1f0v${i}p"
	done
	kt_daemon_start --simulate 1x4 --probe "$mode"
	kt_view
	kt_eq "${KV[probe.mode]}" "$mode" "probe mode (fallback reason: '${KV[probe.reason]}')"
	for i in 0 1 2 3; do
		[ -n "${KV[netdev.ens1f0v$i]:-}" ] || kt_fail "no simulated VF has netdev ens1f0v$i"
	done
}

kt_ip() { ip -n "$KT_NETNS" "$@"; }

# kt_netdev_is NETDEV "STATE: REASON": from a fresh view (KV stays for the caller), the VF
# whose netdev that is shows that state and reason.
kt_netdev_is() {
	local vf

	kt_view
	vf=${KV[netdev.$1]}
	KT_SEEN="$1 ${KV[vf.$vf.state]}: ${KV[vf.$vf.reason]}"
	[ "${KV[vf.$vf.state]}: ${KV[vf.$vf.reason]}" = "$2" ]
}

# The VLAN case, in either probe mode.
kt_vlan_on_vf() {
	kt_probe_rig "$1"
	kt_ip link add link ens1f0v1 name ens1f0v1.100 type vlan id 100
	kt_wait "ens1f0v1 host-busy with its VLAN" 30 \
		kt_netdev_is ens1f0v1 "host-busy: vlan ens1f0v1.100 on top"
	kt_eq "$(kt_counts "${KV[pfs]}")" "4 4 3" "PF: total existing free"
	kt_netdev_is ens1f0v0 "free: " || kt_fail "ens1f0v0, beside it: $KT_SEEN"
	kt_ip link del ens1f0v1.100
	kt_wait "ens1f0v1 free once its VLAN is gone" 30 kt_netdev_is ens1f0v1 "free: "
	kt_daemon_stop
}

# The bond case, in either probe mode. Link events reach the daemon in order, so a VLAN
# added after the enslavement is a barrier: once the daemon shows it, it has handled the
# enslavement too, and the bond member's state is read then, with no bound to wait out.
kt_bond_member_vf() {
	kt_probe_rig "$1"
	kt_ip link add bond7 type bond
	kt_ip link set ens1f0v2 down
	kt_ip link set ens1f0v2 master bond7
	[[ $(kt_ip -o link show ens1f0v2) == *" master bond7 "* ]] ||
		kt_fail "ens1f0v2 is not enslaved to bond7"
	kt_ip link add link ens1f0v3 name ens1f0v3.7 type vlan id 7
	kt_wait "the barrier: ens1f0v3 host-busy with its VLAN" 30 \
		kt_netdev_is ens1f0v3 "host-busy: vlan ens1f0v3.7 on top"
	kt_netdev_is ens1f0v2 "host-busy: bond member of bond7" ||
		kt_fail "ens1f0v2, enslaved to bond7, shows \"${KT_SEEN#ens1f0v2 }\", expected" \
			"\"host-busy: bond member of bond7\""
	kt_ip link set ens1f0v2 nomaster
	kt_ip link del ens1f0v3.7
	kt_wait "ens1f0v2 free once out of the bond" 30 kt_netdev_is ens1f0v2 "free: "
	kt_daemon_stop
}

# ---- a daemon killed in the middle of a numvfs change --------------------------------------

# kt_kill_mid_numvfs_change PF TO AT: with the daemon running and udevd held, asks it for
# `pf set PF --numvfs TO`; once the kernel's sriov_numvfs reads AT (0: the daemon has written
# 0 and awaits the removals; TO: it has written TO and awaits the additions), the change is
# provably in the middle (and journaled): SIGKILL. Then udevd goes on and the daemon
# restarts on the same run and state dirs, and reconciles the change (its journal entry
# goes). Records "PF kernel=K persisted=P asked=TO" for numvfs_killed_change_reconciled.
kt_kill_mid_numvfs_change() {
	local pf=$1 to=$2 at=$3 out=$KT_STATE/$KT_NAME/ctl.out ctl rc=0 from

	from=$(<"/sys/bus/pci/devices/$pf/sriov_numvfs")
	kt_udev_hold
	kt_ctl pf set "$pf" --numvfs "$to" >"$out" 2>&1 &
	ctl=$!
	numvfs_is() { [ "$(<"/sys/bus/pci/devices/$pf/sriov_numvfs")" = "$at" ]; }
	kt_wait "the daemon writing $at to $pf's sriov_numvfs" 30 numvfs_is
	kill -0 "$ctl" 2>/dev/null || kt_fail "pf set returned before the kill: $(<"$out")"
	grep -q "event=numvfs_change_started pf=$pf .* from=$from to=$to" "$KT_DAEMON_LOG" ||
		kt_fail "the daemon did not log the change it is in the middle of ($from to $to)"
	kt_daemon_kill
	wait "$ctl" || rc=$?
	[ "$rc" -ne 0 ] || kt_fail "pf set reported success from a killed daemon: $(<"$out")"
	echo "pf set, its daemon killed: exit $rc: $(grep -v '^+' "$out")"
	[ -e "$KT_STATEDIR/numvfs_changes/$pf" ] ||
		kt_fail "the change in flight was not journaled in $KT_STATEDIR/numvfs_changes"
	kt_udev_release
	kt_daemon_start
	# the restarted daemon finishes or rolls back the change; its journal entry goes then
	reconciled() { [ ! -e "$KT_STATEDIR/numvfs_changes/$pf" ]; }
	kt_wait "the restarted daemon reconciling the change it was killed in" 30 reconciled
	grep "event=numvfs_change_reconciled pci=$pf \|reason=\"rolling back" "$KT_DAEMON_LOG" ||
		true
	echo "$pf kernel=$(<"/sys/bus/pci/devices/$pf/sriov_numvfs")" \
		"persisted=$(<"$KT_STATEDIR/virtual_functions/$pf") asked=$to" \
		>"$KT_STATE/killed-numvfs.$KT_NAME"
}
