# SPDX-License-Identifier: MIT
# vfpoold SIGKILLed in the middle of `pf set --numvfs 4` on a PF with 2 VFs: it has written
# 0 (the kernel removed the VFs) and waits for the removals to reach it through udev, held
# so that the kill lands exactly there. Restarted on the same run and state dirs, it finds
# the change in its journal with the kernel at neither count and rolls it back: 2 VFs again
# (0 -> 2), 2 persisted, the view the kernel's; and it takes a new change at once.
pf0=$(kt_pci_of_serial pf0)
kt_kernel_set_numvfs "$pf0" 0
kt_daemon_start
kt_ctl pf set "$pf0" --numvfs 2
kt_kill_mid_numvfs_change "$pf0" 4 0

kt_view_matches_kernel "$pf0"
kt_eq "$(kt_counts "$pf0")" "8 2 2" "$pf0 after the restart rolled back: total existing free"
kt_eq "$(<"$KT_STATEDIR/virtual_functions/$pf0")" 2 \
	"$pf0: persisted count (the change never completed: rolled back)"
kt_ctl_within 30 pf set "$pf0" --numvfs 4
kt_view_matches_kernel "$pf0"
kt_eq "$(kt_counts "$pf0")" "8 4 4" "$pf0 after a new pf set --numvfs 4"
kt_ctl_within 30 pf set "$pf0" --numvfs 0
kt_daemon_stop
