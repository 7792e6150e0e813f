# SPDX-License-Identifier: MIT
# After a SIGKILL in the middle of a numvfs change and a restart, the kernel's count and the
# persisted count agree: the restarted daemon finished the interrupted change or rolled it
# back. Otherwise the PF keeps whatever count the kill left while the state dir keeps the
# last completed one, silently, until the next boot's restore changes the PF behind the
# operator's back. Reads what numvfs_killed_while_vfs_go and _come recorded after their
# restarts (same boot); without them there is nothing to check.
shopt -s nullglob
records=("$KT_STATE"/killed-numvfs.*)
[ ${#records[@]} -gt 0 ] ||
	kt_skip "needs numvfs_killed_while_vfs_go or numvfs_killed_while_vfs_come run first, same boot"
bad=
for r in "${records[@]}"; do
	read -r pf kernel persisted asked <"$r"
	kernel=${kernel#kernel=} persisted=${persisted#persisted=} asked=${asked#asked=}
	echo "${r##*.}: $pf has $kernel VFs, $persisted persisted, $asked asked"
	if [ "$kernel" != "$persisted" ]; then
		bad+="${bad:+; }${r##*.}: $pf has $kernel VFs, $persisted persisted ($asked asked)"
	fi
done
[ -z "$bad" ] || kt_fail "after the restart, kernel and state dir disagree: $bad"
