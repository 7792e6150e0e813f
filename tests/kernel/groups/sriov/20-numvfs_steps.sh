# SPDX-License-Identifier: MIT
# `vfpoolctl pf set PF --numvfs N` 0 -> 4 -> 2 -> 0 through the daemon on the real kernel:
# the kernel refuses N over M (both non-zero) with EBUSY, so the daemon writes 0 first; VFs
# appear and go through real uevents; the count is persisted at each step. Then the kernel
# changes behind the daemon's back (an administrator writing sysfs) and the daemon follows
# from the uevents alone.
pf0=$(kt_pci_of_serial pf0)
kt_kernel_set_numvfs "$pf0" 0
kt_daemon_start

# One step through the daemon. It answers once the change is done and the state segment
# shows it, so the view is checked at once, not polled.
step() {
	local n=$1 before after

	before=$(kt_kernel_vfs "$pf0")
	kt_mark
	kt_ctl pf set "$pf0" --numvfs "$n"
	after=$(kt_kernel_vfs "$pf0")
	kt_view_matches_kernel "$pf0"
	kt_eq "$(kt_counts "$pf0")" "8 $n $n" "$pf0 after pf set --numvfs $n: total existing free"
	kt_eq "$(<"$KT_STATEDIR/virtual_functions/$pf0")" "$n" "$pf0: numvfs persisted"
	# every VF that went and every VF that came reached the daemon as a uevent
	kt_eq "$(kt_events 'vf-removed|pci-removed' $before)" "$(wc -w <<<"$before")" \
		"$pf0 -> $n: removal uevents the daemon saw for the VFs that went ($before)"
	kt_eq "$(kt_events vf-added $after)" "$n" \
		"$pf0 -> $n: vf-added uevents the daemon saw for the VFs that came ($after)"
}

step 4
# the kernel's own rule: no change between two non-zero counts
if out=$( (echo 2 >"/sys/bus/pci/devices/$pf0/sriov_numvfs") 2>&1); then
	kt_fail "the kernel accepted sriov_numvfs 2 over 4"
fi
[[ $out == *"Device or resource busy"* ]] || kt_fail "writing 2 over 4: '$out', expected EBUSY"
kt_eq "$(<"/sys/bus/pci/devices/$pf0/sriov_numvfs")" 4 "sriov_numvfs after the refused write"
step 2
step 0

# behind the daemon's back: uevents only
existing_is() { kt_view && [ "${KV[pf.$pf0.existing]}" = "$1" ]; }
kt_kernel_set_numvfs "$pf0" 3
kt_wait "daemon shows the 3 VFs the kernel made behind its back" 30 existing_is 3
kt_view_matches_kernel "$pf0"
kt_eq "$(kt_counts "$pf0")" "8 3 3" "$pf0 after sysfs numvfs 3: total existing free"
kt_kernel_set_numvfs "$pf0" 0
kt_wait "daemon shows the VFs gone" 30 existing_is 0
kt_view_matches_kernel "$pf0"
kt_daemon_stop
