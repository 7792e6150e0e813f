# SPDX-License-Identifier: MIT
# vfpoold in real mode (libudev, no --simulate) discovers the real PFs and their VFs: the
# counts sysfs gives (total from sriov_totalvfs, existing from the virtfn links, all free),
# each VF's real IOMMU group, and a discovered VF can be leased and released.
pf0=$(kt_pci_of_serial pf0)
pf1=$(kt_pci_of_serial pf1)
kt_kernel_set_numvfs "$pf0" 3
kt_kernel_set_numvfs "$pf1" 2
kt_daemon_start

kt_view_matches_kernel "$pf0"
kt_view_matches_kernel "$pf1"
kt_eq "${KV[pfs]}" "$pf0 $pf1" "PFs discovered"
# QEMU's NVMe controller (1b36:0010) under the nvme driver
kt_eq "${KV[pf.$pf0.id]} ${KV[pf.$pf0.driver]}" "1b36:0010 nvme" "$pf0: id and driver"
kt_eq "$(kt_counts "$pf0")" "8 3 3" "$pf0: total existing free"
kt_eq "$(kt_counts "$pf1")" "8 2 0" "$pf1: total existing free (its VFs share a group)"

# pf0's VFs: free, each in a group of its own (the root port above them has ACS)
declare -A seen=()
for v in ${KV[pf.$pf0.vfs]}; do
	kt_eq "${KV[vf.$v.state]}" free "$v: state"
	[ -z "${seen[${KV[vf.$v.group]}]:-}" ] || kt_fail "$v: IOMMU group ${KV[vf.$v.group]} seen twice"
	seen[${KV[vf.$v.group]}]=1
done

# a discovered VF is served: leased by pin, then released
vf=$(kt_kernel_vfs "$pf0")
vf=${vf#* }
vf=${vf%% *}
kt_ctl network add red
kt_ctl pf config "$pf0" --all-networks on
kt_ctl alloc vm1 nic0 red --pin "$vf"
kt_view
kt_eq "${KV[vf.$vf.state]} ${KV[pf.$pf0.free]} ${KV[pf.$pf0.leased]}" "leased 2 1" \
	"$vf state, $pf0 free and leased after alloc --pin"
kt_ctl release vm1 nic0
kt_view
kt_eq "${KV[vf.$vf.state]} ${KV[pf.$pf0.free]}" "free 3" "$vf state, $pf0 free after release"
kt_daemon_stop
