# SPDX-License-Identifier: MIT
# A VF bound to vfio-pci by someone else (driver_override, then drivers_probe: the way
# libvirt and driverctl do it) is "bound by another party" in the daemon's view: not free,
# not allocatable, and not destroyed by a numvfs change. Unbound again, it is free.
pf0=$(kt_pci_of_serial pf0)
kt_kernel_set_numvfs "$pf0" 0
kt_daemon_start
kt_ctl pf set "$pf0" --numvfs 2
vf=$(kt_kernel_vfs "$pf0")
vf=${vf##* }
group=$(kt_iommu_groups "$vf")

# someone else takes the VF for a VM of their own
old=$(kt_driver "$vf")
[ -z "$old" ] || echo "$vf" >"/sys/bus/pci/drivers/$old/unbind"
echo vfio-pci >"/sys/bus/pci/devices/$vf/driver_override"
echo "$vf" >/sys/bus/pci/drivers_probe
kt_eq "$(kt_driver "$vf")" vfio-pci "$vf: driver after driver_override + drivers_probe"
[ -c "/dev/vfio/$group" ] || kt_fail "/dev/vfio/$group: no VFIO group device for $vf"

state_is() { kt_view && [ "${KV[vf.$vf.state]}" = "$1" ]; }
kt_wait "daemon shows $vf bound-other" 30 state_is bound-other
kt_eq "${KV[vf.$vf.reason]}" "bound to vfio-pci without a lease" "$vf: reason"
kt_eq "${KV[pf.$pf0.bound_other]} ${KV[pf.$pf0.free]}" "1 1" "$pf0: bound_other and free"

kt_ctl network add red
kt_ctl pf config "$pf0" --all-networks on
if out=$(kt_ctl alloc vm1 nic0 red --pin "$vf" 2>&1); then
	kt_fail "alloc --pin $vf succeeded while another party holds it: $out"
fi
echo "alloc refused: $out"
if out=$(kt_ctl pf set "$pf0" --numvfs 0 2>&1); then
	kt_fail "pf set --numvfs 0 destroyed a VF another party holds: $out"
fi
echo "numvfs change refused: $out"
kt_eq "$(<"/sys/bus/pci/devices/$pf0/sriov_numvfs")" 2 "$pf0: sriov_numvfs after the refusal"

# the other party lets go
echo "$vf" >/sys/bus/pci/drivers/vfio-pci/unbind
echo >"/sys/bus/pci/devices/$vf/driver_override"
kt_wait "daemon shows $vf free again" 30 state_is free
kt_eq "${KV[pf.$pf0.bound_other]} ${KV[pf.$pf0.free]}" "0 2" "$pf0: bound_other and free"
kt_ctl pf set "$pf0" --numvfs 0
kt_daemon_stop
