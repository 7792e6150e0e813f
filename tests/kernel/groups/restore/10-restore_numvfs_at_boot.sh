# SPDX-License-Identifier: MIT
# `vfpoold --restore-numvfs` at boot restores the count persisted by `pf set --numvfs`,
# before anything else runs. Boot 1: the daemon sets pf0 to 3 VFs, persisted in the state
# dir on the persistent share. Boot 2 (a fresh machine: the PF starts with none): early.sh
# has run the restore after udev settled and before any scenario or daemon; the PF has 3
# VFs again and the daemon, started afterwards, finds them.
KT_STATEDIR=$KT_PERSIST/state
pf0=$(kt_pci_of_serial pf0)
if [ "$KT_BOOT" -eq 1 ]; then
	kt_daemon_start
	kt_ctl pf set "$pf0" --numvfs 3
	kt_eq "$(<"$KT_STATEDIR/virtual_functions/$pf0")" 3 "$pf0: persisted count"
	kt_daemon_stop
	kt_next_boot
fi

r=$KT_STATE/restore
[ -e "$r/status" ] || kt_fail "early.sh did not run the restore at boot"
kt_eq "$(<"$r/$pf0.before")" 0 "$pf0: sriov_numvfs at boot, before the restore"
kt_eq "$(<"$r/status")" 0 "vfpoold --restore-numvfs exit status (stderr: $(<"$r/stderr"))"
kt_eq "$(<"$r/stdout")" "$pf0: sriov_numvfs=3 restored" "vfpoold --restore-numvfs report"
kt_eq "$(<"$r/$pf0.after")" 3 "$pf0: sriov_numvfs right after the restore"

kt_daemon_start
kt_view_matches_kernel "$pf0"
kt_eq "$(kt_counts "$pf0")" "8 3 3" "$pf0: total existing free, found by the daemon afterwards"
kt_daemon_stop
