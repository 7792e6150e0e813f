# SPDX-License-Identifier: MIT
# timeout: 180
# The bond and VLAN cases of the Criterion suites (tests/test_probe_netns.c,
# tests/test_probe_daemon.c: issue 14's bond members, and default routes through a VLAN on
# a VF or on its bond), which skip on the build host for want of bonding and 802.1Q, run on
# this kernel in both probe modes: every one must run and pass; a skip is a failure here.
cases='vlan_on_vf_makes_it_busy|vf_enslaved_to_a_bond_is_a_bond_member_until_released'
cases+='|default_route_through_a_vlan_on_the_vf_makes_it_busy'
cases+='|default_route_through_a_vlan_on_a_bond_of_the_vf_makes_it_busy'
cases+='|vf_joining_a_bond_whose_vlan_holds_the_default_route_is_busy_for_the_route'
cases+='|vf_in_a_bond_is_host_busy_as_a_bond_member'
out=$KT_STATE/$KT_NAME.criterion
rc=0
VFPOOL_BUILD=$KT_BUILD "$KT_BUILD/vfpool-tests" --verbose -j1 \
	--filter "probe_@(bpf|fallback|daemon_bpf|daemon_fallback)/@($cases)" >"$out" 2>&1 || rc=$?
cat "$out"
skipped=$(grep '^\[SKIP\]' "$out" | grep -v 'Test is disabled' | head -n1 || true)
[ -z "$skipped" ] || kt_fail "skipped on a kernel with bonding and 802.1Q: $skipped"
grep -q 'Synthesis: Tested: 12 | Passing: 12 | Failing: 0 | Crashing: 0' "$out" ||
	kt_fail "vfpool-tests (status $rc): $(grep -m1 'Synthesis' "$out" || echo 'no summary')"
