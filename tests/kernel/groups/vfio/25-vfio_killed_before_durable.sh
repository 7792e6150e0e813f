# SPDX-License-Identifier: MIT
# vfpoold SIGKILLed in the middle of a vfio-pci binding before its lease was durable: as it
# opens driver_override, inside the request's own serving (the binding record is written,
# the lease not yet journaled: the journal's group commit follows the serving). Restarted
# on the same run and state dirs, the daemon has no lease for the VF and rolls the binding
# back from its record (logged: vfio_recover action=unbind): override cleared, the VF on no
# driver as before, the record gone. The client's retry may then lease it anew: whatever
# it got, a leased VF is bound and a free one is not.
# timeout: 90
source "$KT_HERE/groups/vfio/common.sh"
vfio_setup

vfio_kill_at_open "/sys/bus/pci/devices/$vf/driver_override"
rc=0
kt_ctl alloc vm1 nic0 red --pin "$vf" --driver vfio-pci >"$KT_STATE/alloc.out" 2>&1 &
ctl=$!
kt_wait "vfpoold killed at driver_override" 30 vfio_daemon_died
wait "$KT_DAEMON_PID" 2>/dev/null || true
KT_DAEMON_PID=
[ -f "$KT_RUN/vfio/$vf" ] || kt_fail "no binding record at the kill"

kt_mark
kt_daemon_start
tail -n +$((KT_MARK + 1)) "$KT_DAEMON_LOG" | grep -q "event=vfio_recover vf=$vf action=unbind" ||
	kt_fail "the restart did not roll the binding of $vf back (no vfio_recover action=unbind)"
wait "$ctl" || rc=$?
echo "alloc across the kill: exit $rc: $(<"$KT_STATE/alloc.out")"
kt_view
if [ "${KV[vf.$vf.state]}" = leased ]; then
	echo "the client's retry leased it anew after the rollback"
	kt_wait "$vf bound for the new lease" 30 vfio_driver_is vfio-pci
	vfio_expect_bound
	kt_ctl release vm1 nic0
fi
vfio_expect_given_back
kt_ctl pf set "$pf0" --numvfs 0
kt_daemon_stop
