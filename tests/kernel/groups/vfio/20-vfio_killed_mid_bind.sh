# SPDX-License-Identifier: MIT
# vfpoold SIGKILLed in the middle of a vfio-pci binding: as it opens drivers_probe, after
# it wrote driver_override=vfio-pci (strace kills it on that open, so the kill lands exactly
# there). The VF is then on no driver with an override nobody will clear. Restarted on the
# same run and state dirs, the daemon finishes the binding (the lease was journaled: the
# VF goes to vfio-pci) or rolls it back (it was not: the VF is given back and free); never
# a free VF on vfio-pci, never a lease whose VF is not on it. Then release and alloc work.
# timeout: 90
source "$KT_HERE/groups/vfio/common.sh"
vfio_setup

vfio_kill_at_open /sys/bus/pci/drivers_probe
rc=0
kt_ctl alloc vm1 nic0 red --pin "$vf" --driver vfio-pci >"$KT_STATE/alloc.out" 2>&1 &
ctl=$!
kt_wait "vfpoold killed at drivers_probe" 30 vfio_daemon_died
wait "$KT_DAEMON_PID" 2>/dev/null || true
KT_DAEMON_PID=
kt_eq "$(<"/sys/bus/pci/devices/$vf/driver_override")" vfio-pci "$vf: override at the kill"
kt_eq "$(kt_driver "$vf")" "" "$vf: driver at the kill (unbound, not yet probed)"
[ -f "$KT_RUN/vfio/$vf" ] || kt_fail "no binding record at the kill"

kt_daemon_start
wait "$ctl" || rc=$?
echo "alloc across the kill: exit $rc: $(<"$KT_STATE/alloc.out")"
kt_view
if [ "${KV[vf.$vf.state]}" = leased ]; then
	echo "the lease was durable: the restart finishes the binding"
	kt_wait "$vf bound by the restarted daemon" 30 vfio_driver_is vfio-pci
	vfio_expect_bound
	out=$(kt_ctl alloc vm1 nic0 red --pin "$vf" --driver vfio-pci --json)
	kt_eq "$(jq -r .vfio_group <<<"$out")" "/dev/vfio/$group" "the lease's group, asked again"
	kt_ctl release vm1 nic0
else
	echo "the lease was not durable: the restart rolls the binding back"
fi
vfio_expect_given_back
out=$(kt_ctl alloc vm1 nic2 red --pin "$vf" --driver vfio-pci --json)
kt_eq "$(jq -r .vfio_group <<<"$out")" "/dev/vfio/$group" "a new lease after the recovery"
vfio_expect_bound
kt_ctl release vm1 nic2
vfio_expect_given_back
kt_ctl pf set "$pf0" --numvfs 0
kt_daemon_stop
