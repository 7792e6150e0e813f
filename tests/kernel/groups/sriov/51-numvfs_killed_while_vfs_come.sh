# SPDX-License-Identifier: MIT
# vfpoold SIGKILLed in the middle of `pf set --numvfs 4` on a PF with none: it has written
# 4 (the kernel made the VFs) and waits for them to reach it through udev, held so that the
# kill lands there. Restarted, it sees the 4 VFs the kernel has, all free, keeps the
# persisted count that last completed (0), and takes a new change at once.
pf0=$(kt_pci_of_serial pf0)
kt_kernel_set_numvfs "$pf0" 0
kt_daemon_start
kt_ctl pf set "$pf0" --numvfs 0 # persisted 0: the last change that completed
kt_kill_mid_numvfs_change "$pf0" 4 4

kt_view_matches_kernel "$pf0"
kt_eq "$(kt_counts "$pf0")" "8 4 4" "$pf0 after the restart: total existing free"
kt_eq "$(<"$KT_STATEDIR/virtual_functions/$pf0")" 0 \
	"$pf0: persisted count (the change never completed)"
kt_ctl pf set "$pf0" --numvfs 2
kt_view_matches_kernel "$pf0"
kt_eq "$(kt_counts "$pf0")" "8 2 2" "$pf0 after a new pf set --numvfs 2"
kt_ctl pf set "$pf0" --numvfs 0
kt_daemon_stop
