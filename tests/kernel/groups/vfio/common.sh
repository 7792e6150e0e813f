# SPDX-License-Identifier: MIT
# Sourced by this group's scenarios (not a scenario: no number): a daemon serving pf0 with
# 2 VFs, network red on it, and VF 0 as the kernel has it once nvme gave it up (QEMU's
# secondary controllers are offline until assigned resources: the VF ends with no driver).
vfio_setup() {
	pf0=$(kt_pci_of_serial pf0)
	kt_kernel_set_numvfs "$pf0" 0
	kt_daemon_start
	kt_ctl pf set "$pf0" --numvfs 2
	vf=$(kt_kernel_vfs "$pf0")
	vf=${vf%% *}
	group=$(kt_iommu_groups "$vf")
	kt_wait "$vf settled without a driver" 30 vfio_driver_is ""
	kt_ctl network add red
	kt_ctl pf config "$pf0" --all-networks on
}

vfio_driver_is() {
	KT_SEEN=$(kt_driver "$vf")
	KT_SEEN=${KT_SEEN:-none}
	[ "$(kt_driver "$vf")" = "$1" ]
}

vfio_not_on_vfio_pci() {
	KT_SEEN=$(kt_driver "$vf")
	[ "$KT_SEEN" != vfio-pci ] && [ ! -e "/dev/vfio/$group" ] &&
		[ "$(<"/sys/bus/pci/devices/$vf/driver_override")" = "(null)" ]
}

vfio_state_is() { kt_view && KT_SEEN=${KV[vf.$vf.state]} && [ "$KT_SEEN" = "$1" ]; }

# The lease as vfpool bound it: on vfio-pci, its group device there, its record kept.
vfio_expect_bound() {
	kt_eq "$(kt_driver "$vf")" vfio-pci "$vf: driver"
	[ -c "/dev/vfio/$group" ] || kt_fail "/dev/vfio/$group: no VFIO group device for $vf"
	kt_eq "$(<"/sys/bus/pci/devices/$vf/driver_override")" vfio-pci "$vf: driver_override"
	[ -f "$KT_RUN/vfio/$vf" ] || kt_fail "$vf bound without a binding record"
}

# Back from vfio-pci: no driver (as before), override cleared, record gone, free again.
vfio_expect_given_back() {
	kt_wait "$vf given back by vfio-pci" 30 vfio_not_on_vfio_pci
	kt_wait "the daemon shows $vf free" 30 vfio_state_is free
	[ ! -e "$KT_RUN/vfio/$vf" ] || kt_fail "$vf given back, its binding record left"
}

# vfio_kill_at_open PATH: SIGKILLs the daemon as it opens PATH (strace -P; the kill lands on
# the syscall's entry, so PATH is never written). Returns once strace is attached.
vfio_kill_at_open() {
	local i

	strace -qq -f -o /dev/null -p "$KT_DAEMON_PID" -P "$1" -e trace=openat \
		-e inject=openat:signal=SIGKILL &
	for ((i = 0; i < 200; i++)); do
		[ "$(awk '/^TracerPid/ { print $2 }' "/proc/$KT_DAEMON_PID/status")" != 0 ] &&
			return 0
		sleep 0.05
	done
	kt_fail "strace did not attach to vfpoold"
}

vfio_daemon_died() { ! kill -0 "$KT_DAEMON_PID" 2>/dev/null; }
