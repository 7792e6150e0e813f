# SPDX-License-Identifier: MIT
# `alloc --driver vfio-pci` on the real kernel: the daemon records the VF's driver, writes
# driver_override, unbinds and probes, and the allocation completes with the VF on the
# real vfio-pci and its group device (/dev/vfio/N) there; the lease names that group, the
# libvirt form says managed='no'. The release gives the VF back to the driver it had
# before (none: nvme gives QEMU's offline VFs up), override cleared, free again.
source "$KT_HERE/groups/vfio/common.sh"
vfio_setup

out=$(kt_ctl alloc vm1 nic0 red --pin "$vf" --driver vfio-pci --json)
echo "$out"
kt_eq "$(jq -r .vfio_group <<<"$out")" "/dev/vfio/$group" "the lease's VFIO group"
vfio_expect_bound
kt_eq "$(<"$KT_RUN/vfio/$vf")" "driver=" "the recorded original driver (none)"
kt_view
kt_eq "${KV[vf.$vf.state]}" leased "$vf in the daemon's view"
xml=$(kt_ctl alloc vm1 nic0 red --pin "$vf" --driver vfio-pci --format libvirt)
echo "$xml"
grep -q "managed='no'" <<<"$xml" || kt_fail "libvirt XML of a VF vfpool bound: $xml"
grep -q "/dev/vfio/$group" <<<"$xml" || kt_fail "libvirt XML does not name the group: $xml"

kt_ctl release vm1 nic0
vfio_expect_given_back
# and again: the second binding is as good as the first
kt_ctl alloc vm1 nic1 red --pin "$vf" --driver vfio-pci >/dev/null
vfio_expect_bound
kt_ctl release vm1 nic1
vfio_expect_given_back
kt_ctl pf set "$pf0" --numvfs 0
kt_daemon_stop
