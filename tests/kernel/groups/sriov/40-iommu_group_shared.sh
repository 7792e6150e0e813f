# SPDX-License-Identifier: MIT
# VFs whose IOMMU group holds another device are "IOMMU group shared": pf1 sits behind a
# root port without ACS (QEMU's disable-acs=on), so the kernel puts the root port, pf1 and
# every VF of pf1 in one group. VFIO can only hand a whole group to a VM: such a VF is
# never free, whatever else is true of it.
pf1=$(kt_pci_of_serial pf1)
kt_kernel_set_numvfs "$pf1" 0
kt_daemon_start
kt_ctl pf set "$pf1" --numvfs 3
kt_view_matches_kernel "$pf1"
vfs=(${KV[pf.$pf1.vfs]})
groups=($(kt_iommu_groups "${vfs[@]}"))
for i in "${!vfs[@]}"; do
	v=${vfs[$i]} g=${groups[$i]}
	members=(/sys/kernel/iommu_groups/"$g"/devices/*)
	members=("${members[@]##*/}")
	echo "$v: IOMMU group $g holds ${members[*]}"
	# the group's first member (by address) that is not one of pf1's VFs: the one named
	other=
	for d in "${members[@]}"; do
		[[ " ${vfs[*]} " == *" $d "* ]] || { other=$d; break; }
	done
	[ -n "$other" ] || kt_fail "$v: group $g holds only pf1's VFs: the topology did not share it"
	kt_eq "${KV[vf.$v.state]}: ${KV[vf.$v.reason]}" "iommu-shared: IOMMU group $g shared with $other" \
		"$v: state and reason"
done
kt_eq "${KV[pf.$pf1.iommu_shared]} ${KV[pf.$pf1.free]}" "3 0" "$pf1: iommu_shared and free"

kt_ctl network add red
kt_ctl pf config "$pf1" --all-networks on
if out=$(kt_ctl alloc vm1 nic0 red --pin "${vfs[0]}" 2>&1); then
	kt_fail "alloc --pin ${vfs[0]} succeeded on a shared IOMMU group: $out"
fi
echo "alloc refused: $out"
kt_ctl pf set "$pf1" --numvfs 0
kt_daemon_stop
