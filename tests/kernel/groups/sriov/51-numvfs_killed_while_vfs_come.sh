# SPDX-License-Identifier: MIT
# vfpoold SIGKILLed in the middle of `pf set --numvfs 4` on a PF with none: it has written
# 4 (the kernel made the VFs) and waits for them to reach it through udev, held so that the
# kill lands there. Restarted, it must see the 4 VFs the kernel has, all free, keep the
# persisted count that last completed (0), and take a new change at once.
pf0=$(kt_pci_of_serial pf0)
kt_kernel_set_numvfs "$pf0" 0
kt_daemon_start
kt_ctl pf set "$pf0" --numvfs 0 # persisted 0: the last change that completed

kt_udev_hold
kt_ctl pf set "$pf0" --numvfs 4 >"$KT_STATE/$KT_NAME/ctl.out" 2>&1 &
ctl=$!
numvfs_is() { [ "$(<"/sys/bus/pci/devices/$pf0/sriov_numvfs")" = "$1" ]; }
kt_wait "the daemon writing 4 to $pf0's sriov_numvfs" 30 numvfs_is 4
kill -0 "$ctl" 2>/dev/null || kt_fail "pf set returned before the kill: $(<"$KT_STATE/$KT_NAME/ctl.out")"
kt_daemon_kill
rc=0
wait "$ctl" || rc=$?
[ "$rc" -ne 0 ] || kt_fail "pf set reported success from a killed daemon: $(<"$KT_STATE/$KT_NAME/ctl.out")"
echo "pf set, its daemon killed: exit $rc: $(<"$KT_STATE/$KT_NAME/ctl.out")"
kt_udev_release

kt_daemon_start
kt_view_matches_kernel "$pf0"
kt_eq "$(kt_counts "$pf0")" "8 4 4" "$pf0 after the restart: total existing free"
kt_eq "$(<"$KT_STATEDIR/virtual_functions/$pf0")" 0 "$pf0: persisted count (the change never completed)"
echo "$pf0 kernel=$(<"/sys/bus/pci/devices/$pf0/sriov_numvfs") persisted=0 asked=4" >"$KT_STATE/killed-numvfs.$KT_NAME"

kt_ctl pf set "$pf0" --numvfs 2
kt_view_matches_kernel "$pf0"
kt_eq "$(kt_counts "$pf0")" "8 2 2" "$pf0 after a new pf set --numvfs 2"
kt_ctl pf set "$pf0" --numvfs 0
kt_daemon_stop
