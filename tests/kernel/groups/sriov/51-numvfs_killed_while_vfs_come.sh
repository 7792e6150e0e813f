# SPDX-License-Identifier: MIT
# vfpoold SIGKILLed in the middle of `pf set --numvfs 4` on a PF with none: it has written
# 4 (the kernel made the VFs) and waits for them to reach it through udev, held so that the
# kill lands there. Restarted, it finds the change in its journal with the kernel at the
# count asked and finishes it: 4 persisted, the 4 VFs all free; and it takes a new change at
# once. That change once hung past the scenario's bound in 2 of 8 runs (a VF's add uevent
# decoded before the kernel linked the VF to its PF, dropped): bounded here, it fails with
# the daemon's log instead.
pf0=$(kt_pci_of_serial pf0)
kt_kernel_set_numvfs "$pf0" 0
kt_daemon_start
kt_ctl pf set "$pf0" --numvfs 0 # already 0: persisted 0, nothing written
kt_kill_mid_numvfs_change "$pf0" 4 4

kt_view_matches_kernel "$pf0"
kt_eq "$(kt_counts "$pf0")" "8 4 4" "$pf0 after the restart: total existing free"
kt_eq "$(<"$KT_STATEDIR/virtual_functions/$pf0")" 4 \
	"$pf0: persisted count (the kernel made the VFs: finished)"
kt_ctl_within 30 pf set "$pf0" --numvfs 2
kt_view_matches_kernel "$pf0"
kt_eq "$(kt_counts "$pf0")" "8 2 2" "$pf0 after a new pf set --numvfs 2"
kt_ctl_within 30 pf set "$pf0" --numvfs 0
kt_daemon_stop
