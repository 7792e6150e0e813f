# SPDX-License-Identifier: MIT
# vfpoold SIGKILLed in the middle of giving a VF back: as it opens vfio-pci's unbind at the
# release (strace kills it on that open, inside the release's own serving: the release is
# not durable yet). The VF is still on vfio-pci. Restarted on the same run and state dirs,
# the daemon keeps the lease the journal has, bound as it was (its record), until the
# release is asked again; then the VF goes back to its driver before anyone can have it.
# timeout: 90
source "$KT_HERE/groups/vfio/common.sh"
vfio_setup

kt_ctl alloc vm1 nic0 red --pin "$vf" --driver vfio-pci >/dev/null
vfio_expect_bound
vfio_kill_at_open /sys/bus/pci/drivers/vfio-pci/unbind
rc=0
kt_ctl release vm1 nic0 >"$KT_STATE/release.out" 2>&1 &
ctl=$!
kt_wait "vfpoold killed at vfio-pci's unbind" 30 vfio_daemon_died
wait "$KT_DAEMON_PID" 2>/dev/null || true
KT_DAEMON_PID=
kt_eq "$(kt_driver "$vf")" vfio-pci "$vf: driver at the kill"

kt_daemon_start
wait "$ctl" || rc=$?
echo "release across the kill: exit $rc: $(<"$KT_STATE/release.out")"
kt_view
if [ "${KV[vf.$vf.state]}" = leased ]; then
	echo "the lease is back from the journal: it stays, bound"
	kt_wait "$vf still bound after the restart" 30 vfio_driver_is vfio-pci
	vfio_expect_bound
	kt_ctl release vm1 nic0
else
	echo "the lease is gone (the release's retry reached the new daemon): the VF goes back"
fi
vfio_expect_given_back
kt_ctl pf set "$pf0" --numvfs 0
kt_daemon_stop
