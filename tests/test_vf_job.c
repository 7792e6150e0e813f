/* SPDX-License-Identifier: MIT */
/*
 * One VF configuration job as a state machine (core/vfconfig/vf_job.h), driven with inputs:
 * the test plays the owner (the world it reads, the kernel's answers, the timer) and checks
 * each action the job asks for. No socket, no io_uring.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/if_link.h>
#include <string.h>

#include "core/vfconfig/vf_job.h"

static const struct vf_job_target target = {
	.pf_name = "ens1f0", .vf_pci = "0000:3b:02.3", .vf_index = 3, .timeout_ms = 2000,
};

/* The PF netdev and the VF's are here, the lease is the job's. */
static const struct vf_job_world here = {
	.same_lease = true, .leased = true, .pf_ifindex = 7, .vf_ifindex = 9,
};

/* What a lease wants: the PF-side fields and an MTU. */
static const struct vf_state lease_want = {
	.fields = VF_F_PF_ALL | VF_F_MTU, .mac = { 0x52, 0x54, 0, 0xaa, 0xbb, 1 }, .vlan = 100,
	.spoofchk = true, .link_state = IFLA_VF_LINK_STATE_AUTO, .mtu = 9000,
};

/* What the VF looked like before: a VLAN of its own, trusted. */
static const struct vf_state before = {
	.fields = VF_F_PF_ALL, .mac = { 2, 0, 0, 0, 0, 7 }, .vlan = 12, .trust = true,
	.link_state = IFLA_VF_LINK_STATE_DISABLE,
};

/* The job's next action once the owner observed world w whenever asked to. */
static struct vf_job_action expect(struct vf_job *j, const struct vf_job_world *w,
				   enum vf_job_action_kind kind)
{
	struct vf_job_action a;

	vf_job_next_action(j, &a);
	for (int i = 0; a.kind == VF_ACT_OBSERVE && i < 8; i++) {
		cr_assert_eq(vf_job_observe(j, a.step, w), 0);
		vf_job_next_action(j, &a);
	}
	cr_assert_eq(a.kind, kind, "action %d, expected %d (state %d)", a.kind, kind,
		     vf_job_state(j));
	return a;
}

static void expect_result(const struct vf_job *j, enum vf_job_outcome outcome, int error,
			  const char *why)
{
	enum vf_job_outcome o;
	const char *w;
	int e;

	cr_assert_eq(vf_job_result(j, &o, &e, &w), 0);
	cr_assert_eq(o, outcome, "outcome %d, expected %d", o, outcome);
	cr_assert_eq(e, error, "error %d, expected %d", e, error);
	cr_assert_str_eq(w, why);
}

/* GETLINK of the PF answered with the VF's state (NULL: no VF info), then acknowledged. */
static void answer_save_pf(struct vf_job *j, const struct vf_state *st)
{
	struct vf_job_action a = expect(j, &here, VF_ACT_GETLINK);

	cr_assert_eq(a.ifindex, here.pf_ifindex);
	cr_assert_eq(a.timeout_ms, 2000u);
	if (st)
		cr_assert_eq(vf_job_link_state(j, a.step, st), 0);
	cr_assert_eq(vf_job_ack(j, a.step, 0, ""), 0);
}

static void ack(struct vf_job *j, const struct vf_job_world *w, enum vf_job_action_kind kind)
{
	struct vf_job_action a = expect(j, w, kind);

	cr_assert_eq(vf_job_ack(j, a.step, 0, ""), 0);
}

/* An apply whose save is already done: it goes straight to the changes. */
static void apply_saved(struct vf_job *j, struct vf_saved *sv)
{
	*sv = (struct vf_saved){ .pf_saved = true, .mtu_saved = true, .orig = before };
	sv->orig.fields |= VF_F_MTU;
	sv->orig.mtu = 1500;
	vf_job_apply(j, &target, sv, &lease_want);
}

Test(vf_job, apply_saves_the_vf_then_sets_the_lease_config)
{
	struct vf_saved sv = { 0 };
	struct vf_state pf_says = before, vf_mtu = { .fields = VF_F_MTU, .mtu = 1400 };
	struct vf_job_action a;
	struct vf_job j;

	pf_says.fields |= VF_F_MTU; /* the PF's message carries the PF's own MTU */
	pf_says.mtu = 1500;
	vf_job_apply(&j, &target, &sv, &lease_want);
	answer_save_pf(&j, &pf_says);
	cr_assert(sv.pf_saved);
	a = expect(&j, &here, VF_ACT_GETLINK);
	cr_assert_eq(a.ifindex, here.vf_ifindex, "the VF netdev's MTU");
	cr_assert_eq(vf_job_link_state(&j, a.step, &vf_mtu), 0);
	cr_assert_eq(vf_job_ack(&j, a.step, 0, ""), 0);
	cr_assert(sv.mtu_saved);
	cr_assert_eq(sv.orig.mtu, 1400u, "the VF's MTU, not the PF's");
	cr_assert_eq(sv.orig.vlan, 12);
	cr_assert(sv.orig.trust);
	a = expect(&j, &here, VF_ACT_SETLINK_VF);
	cr_assert_eq(a.ifindex, here.pf_ifindex);
	cr_assert_eq(a.vf_index, 3u);
	cr_assert_not(vf_state_differs(&a.want, &lease_want));
	cr_assert_eq(vf_job_ack(&j, a.step, 0, ""), 0);
	a = expect(&j, &here, VF_ACT_SETLINK_MTU);
	cr_assert_eq(a.ifindex, here.vf_ifindex);
	cr_assert_eq(a.want.mtu, 9000u);
	cr_assert_eq(vf_job_ack(&j, a.step, 0, ""), 0);
	expect(&j, &here, VF_ACT_FINISHED);
	expect_result(&j, VF_JOB_OK, 0, "");
}

Test(vf_job, a_vf_saved_before_is_not_read_again)
{
	struct vf_saved sv;
	struct vf_job j;

	apply_saved(&j, &sv);
	ack(&j, &here, VF_ACT_SETLINK_VF);
	ack(&j, &here, VF_ACT_SETLINK_MTU);
	expect(&j, &here, VF_ACT_FINISHED);
	expect_result(&j, VF_JOB_OK, 0, "");
}

Test(vf_job, a_vf_without_vf_info_is_saved_as_clean)
{
	struct vf_saved sv = { 0 };
	struct vf_state clean;
	struct vf_job j;

	vf_state_clean(&clean);
	vf_job_apply(&j, &target, &sv, &lease_want);
	answer_save_pf(&j, NULL);
	cr_assert(sv.pf_saved);
	cr_assert_not(vf_state_differs(&sv.orig, &clean));
}

Test(vf_job, the_mtu_steps_are_skipped_without_a_vf_netdev)
{
	struct vf_job_world vfio = here;
	struct vf_saved sv = { 0 };
	struct vf_job j;

	vfio.vf_ifindex = 0; /* bound to vfio-pci: no netdev to carry an MTU */
	vf_job_apply(&j, &target, &sv, &lease_want);
	expect(&j, &vfio, VF_ACT_GETLINK);
	answer_save_pf(&j, &before);
	ack(&j, &vfio, VF_ACT_SETLINK_VF);
	expect(&j, &vfio, VF_ACT_FINISHED);
	expect_result(&j, VF_JOB_OK, 0, "");
	cr_assert_not(sv.mtu_saved);
}

Test(vf_job, a_kernel_refusal_after_a_change_rolls_back_to_the_saved_state)
{
	struct vf_saved sv;
	struct vf_job_action a;
	struct vf_job j;

	apply_saved(&j, &sv);
	ack(&j, &here, VF_ACT_SETLINK_VF);
	a = expect(&j, &here, VF_ACT_SETLINK_MTU);
	cr_assert_eq(vf_job_ack(&j, a.step, -EINVAL, "mtu greater than device maximum"), 0);
	cr_assert(vf_job_rolling_back(&j));
	a = expect(&j, &here, VF_ACT_SETLINK_VF);
	cr_assert_not(vf_state_differs(&a.want, &sv.orig), "the saved state goes back");
	cr_assert_eq(vf_job_ack(&j, a.step, 0, ""), 0);
	a = expect(&j, &here, VF_ACT_SETLINK_MTU);
	cr_assert_eq(a.want.mtu, 1500u, "and the saved MTU");
	cr_assert_eq(vf_job_ack(&j, a.step, 0, ""), 0);
	expect(&j, &here, VF_ACT_FINISHED);
	expect_result(&j, VF_JOB_FAILED, -EINVAL,
		      "ens1f0 vf 3: kernel refused: Invalid argument: mtu greater than device "
		      "maximum");
}

Test(vf_job, a_refusal_before_any_change_fails_without_a_rollback)
{
	struct vf_saved sv;
	struct vf_job_action a;
	struct vf_job j;

	apply_saved(&j, &sv);
	a = expect(&j, &here, VF_ACT_SETLINK_VF);
	cr_assert_eq(vf_job_ack(&j, a.step, -EOPNOTSUPP, ""), 0);
	expect(&j, &here, VF_ACT_FINISHED);
	expect_result(&j, VF_JOB_FAILED, -EOPNOTSUPP,
		      "ens1f0 vf 3: kernel refused: Operation not supported");
}

Test(vf_job, a_timeout_rolls_back_what_the_kernel_may_have_applied)
{
	struct vf_saved sv;
	struct vf_job_action a;
	struct vf_job j;

	apply_saved(&j, &sv);
	a = expect(&j, &here, VF_ACT_SETLINK_VF);
	cr_assert_eq(vf_job_timeout(&j, a.step), 0);
	a = expect(&j, &here, VF_ACT_SETLINK_VF);
	cr_assert_not(vf_state_differs(&a.want, &sv.orig));
	cr_assert_eq(vf_job_ack(&j, a.step, 0, ""), 0);
	ack(&j, &here, VF_ACT_SETLINK_MTU);
	expect(&j, &here, VF_ACT_FINISHED);
	expect_result(&j, VF_JOB_FAILED, -ETIMEDOUT,
		      "ens1f0: no answer from the kernel in 2000 ms");
}

Test(vf_job, a_failed_rollback_leaves_the_vf_dirty_with_the_first_reason)
{
	struct vf_saved sv;
	struct vf_job_action a;
	struct vf_job j;

	apply_saved(&j, &sv);
	a = expect(&j, &here, VF_ACT_SETLINK_VF);
	cr_assert_eq(vf_job_timeout(&j, a.step), 0);
	a = expect(&j, &here, VF_ACT_SETLINK_VF);
	cr_assert_eq(vf_job_ack(&j, a.step, -EBUSY, ""), 0);
	expect(&j, &here, VF_ACT_FINISHED);
	expect_result(&j, VF_JOB_DIRTY, -ETIMEDOUT,
		      "ens1f0: no answer from the kernel in 2000 ms");
}

Test(vf_job, a_pf_netdev_gone_fails_the_apply)
{
	struct vf_job_world gone = here;
	struct vf_saved sv = { 0 };
	struct vf_job j;

	gone.pf_ifindex = 0;
	vf_job_apply(&j, &target, &sv, &lease_want);
	expect(&j, &gone, VF_ACT_FINISHED);
	expect_result(&j, VF_JOB_FAILED, -ENODEV, "ens1f0: PF netdev gone");
	cr_assert_not(sv.pf_saved);
}

Test(vf_job, a_lease_released_meanwhile_drops_the_apply)
{
	struct vf_job_world released = here;
	struct vf_saved sv;
	struct vf_job j;

	released.leased = false;
	apply_saved(&j, &sv);
	ack(&j, &here, VF_ACT_SETLINK_VF);
	expect(&j, &released, VF_ACT_FINISHED);
	expect_result(&j, VF_JOB_DROPPED, -ECANCELED,
		      "0000:3b:02.3: released before it was configured");
}

Test(vf_job, a_rollback_goes_on_after_the_lease_is_released)
{
	struct vf_job_world released = here;
	struct vf_saved sv;
	struct vf_job_action a;
	struct vf_job j;

	released.leased = false;
	apply_saved(&j, &sv);
	ack(&j, &here, VF_ACT_SETLINK_VF);
	a = expect(&j, &here, VF_ACT_SETLINK_MTU);
	cr_assert_eq(vf_job_ack(&j, a.step, -EINVAL, ""), 0);
	/* the rollback restores the VF whatever became of the lease */
	ack(&j, &released, VF_ACT_SETLINK_VF);
	ack(&j, &released, VF_ACT_SETLINK_MTU);
	expect(&j, &released, VF_ACT_FINISHED);
	expect_result(&j, VF_JOB_FAILED, -EINVAL, "ens1f0 vf 3: kernel refused: Invalid argument");
}

Test(vf_job, a_lease_made_again_drops_even_a_rollback)
{
	struct vf_job_world again = here;
	struct vf_saved sv;
	struct vf_job_action a;
	struct vf_job j;

	again.same_lease = false;
	apply_saved(&j, &sv);
	a = expect(&j, &here, VF_ACT_SETLINK_VF);
	cr_assert_eq(vf_job_timeout(&j, a.step), 0);
	expect(&j, &again, VF_ACT_FINISHED);
	expect_result(&j, VF_JOB_DROPPED, -ECANCELED,
		      "0000:3b:02.3: released before it was configured");
}

Test(vf_job, a_restore_sets_the_saved_state_then_resets_a_vfio_vf)
{
	struct vf_job_world vfio = here;
	struct vf_saved sv = { .pf_saved = true, .mtu_saved = true, .orig = before };
	struct vf_job_action a;
	struct vf_job j;

	vfio.leased = false; /* a release: the record is gone, the generation stays */
	vfio.vfio = true;
	sv.orig.fields |= VF_F_MTU;
	sv.orig.mtu = 1500;
	vf_job_restore(&j, &target, &sv, true);
	a = expect(&j, &vfio, VF_ACT_SETLINK_VF);
	cr_assert_not(vf_state_differs(&a.want, &before));
	cr_assert_eq(vf_job_ack(&j, a.step, 0, ""), 0);
	a = expect(&j, &vfio, VF_ACT_SETLINK_MTU);
	cr_assert_eq(a.want.mtu, 1500u);
	cr_assert_eq(vf_job_ack(&j, a.step, 0, ""), 0);
	a = expect(&j, &vfio, VF_ACT_RESET);
	cr_assert_eq(vf_job_reset_done(&j, a.step, 1), 0);
	expect(&j, &vfio, VF_ACT_FINISHED);
	expect_result(&j, VF_JOB_OK, 0, "");
}

Test(vf_job, a_restore_of_a_vf_never_saved_sends_the_clean_state_without_an_mtu)
{
	struct vf_job_world released = here;
	struct vf_saved sv = { 0 };
	struct vf_job_action a;
	struct vf_state clean;
	struct vf_job j;

	released.leased = false;
	vf_state_clean(&clean);
	vf_job_restore(&j, &target, &sv, true);
	a = expect(&j, &released, VF_ACT_SETLINK_VF);
	cr_assert_not(vf_state_differs(&a.want, &clean));
	cr_assert_eq(a.want.fields, VF_F_PF_ALL);
	cr_assert_eq(vf_job_ack(&j, a.step, 0, ""), 0);
	expect(&j, &released, VF_ACT_FINISHED);
	expect_result(&j, VF_JOB_OK, 0, "");
}

Test(vf_job, a_restore_without_netlink_only_resets_a_vfio_vf)
{
	struct vf_job_world vfio = here, other = here;
	struct vf_saved sv = { 0 };
	struct vf_job j;

	vfio.vfio = true;
	vf_job_restore(&j, &target, &sv, false);
	expect(&j, &vfio, VF_ACT_RESET);
	vf_job_restore(&j, &target, &sv, false);
	expect(&j, &other, VF_ACT_FINISHED); /* no longer on vfio-pci: nothing to reset */
	expect_result(&j, VF_JOB_OK, 0, "");
}

Test(vf_job, a_failed_reset_leaves_the_vf_dirty)
{
	struct vf_job_world vfio = here;
	struct vf_saved sv = { 0 };
	struct vf_job_action a;
	struct vf_job j;

	vfio.vfio = true;
	vf_job_restore(&j, &target, &sv, false);
	a = expect(&j, &vfio, VF_ACT_RESET);
	cr_assert_eq(vf_job_reset_done(&j, a.step, -EIO), 0);
	expect(&j, &vfio, VF_ACT_FINISHED);
	expect_result(&j, VF_JOB_DIRTY, -EIO,
		      "0000:3b:02.3: function-level reset: Input/output error");
}

Test(vf_job, a_failed_restore_leaves_the_vf_dirty)
{
	struct vf_saved sv = { .pf_saved = true, .orig = before };
	struct vf_job_action a;
	struct vf_job j;

	vf_job_restore(&j, &target, &sv, true);
	a = expect(&j, &here, VF_ACT_SETLINK_VF);
	cr_assert_eq(vf_job_ack(&j, a.step, -EBUSY, ""), 0);
	expect(&j, &here, VF_ACT_FINISHED);
	expect_result(&j, VF_JOB_DIRTY, -EBUSY,
		      "ens1f0 vf 3: kernel refused: Device or resource busy");
}

Test(vf_job, a_scan_reads_the_pf_once)
{
	struct vf_job_world any = { .pf_ifindex = 7 };
	struct vf_job_action a;
	struct vf_job j;

	vf_job_scan(&j, &target);
	a = expect(&j, &any, VF_ACT_GETLINK);
	cr_assert_eq(a.ifindex, 7);
	cr_assert_eq(vf_job_link_state(&j, a.step, &before), -EINVAL,
		     "a scan's answer is about every VF: the owner reads it");
	cr_assert_eq(vf_job_ack(&j, a.step, 0, ""), 0);
	expect(&j, &any, VF_ACT_FINISHED);
	expect_result(&j, VF_JOB_OK, 0, "");

	vf_job_scan(&j, &target);
	a = expect(&j, &any, VF_ACT_GETLINK);
	cr_assert_eq(vf_job_timeout(&j, a.step), 0);
	expect(&j, &any, VF_ACT_FINISHED);
	expect_result(&j, VF_JOB_FAILED, -ETIMEDOUT,
		      "ens1f0: no answer from the kernel in 2000 ms");
}

Test(vf_job, stale_and_unexpected_inputs_are_refused)
{
	struct vf_saved sv;
	struct vf_job_action a, old;
	struct vf_job j;

	apply_saved(&j, &sv);
	vf_job_next_action(&j, &a);
	cr_assert_eq(a.kind, VF_ACT_OBSERVE);
	cr_assert_eq(vf_job_ack(&j, a.step, 0, ""), -EINVAL, "nothing was sent yet");
	old = expect(&j, &here, VF_ACT_SETLINK_VF);
	cr_assert_eq(vf_job_observe(&j, old.step, &here), -EINVAL, "observed already");
	cr_assert_eq(vf_job_reset_done(&j, old.step, 1), -EINVAL, "no reset was asked for");
	cr_assert_eq(vf_job_link_state(&j, old.step, &before), -EINVAL, "a SETLINK has no state");
	cr_assert_eq(vf_job_ack(&j, old.step, 0, ""), 0);
	/* a late timeout of the answered request, a duplicate answer */
	cr_assert_eq(vf_job_timeout(&j, old.step), -ESTALE);
	cr_assert_eq(vf_job_ack(&j, old.step, -EBUSY, ""), -ESTALE);
	cr_assert_eq(vf_job_failed(&j, old.step, -EIO, "late"), -ESTALE);
	cr_assert_not(vf_job_rolling_back(&j));
	ack(&j, &here, VF_ACT_SETLINK_MTU);
	expect(&j, &here, VF_ACT_FINISHED);
	expect_result(&j, VF_JOB_OK, 0, "");
	cr_assert_eq(vf_job_ack(&j, old.step, 0, ""), -ESTALE);
}

Test(vf_job, a_job_not_finished_has_no_result)
{
	struct vf_saved sv;
	struct vf_job j;

	apply_saved(&j, &sv);
	cr_assert_eq(vf_job_result(&j, NULL, NULL, NULL), -EINPROGRESS);
}

Test(vf_job, a_scan_marks_only_an_unleased_configured_vf_for_reset)
{
	struct vf_state clean, dirty = before;
	struct vf_saved sv = { 0 };

	vf_state_clean(&clean);
	cr_assert(vf_saved_scanned(&sv, &dirty, false), "left configured by a crash");
	cr_assert(sv.pf_saved);
	cr_assert_not(vf_state_differs(&sv.orig, &clean), "its original is the clean state");
	cr_assert_not(vf_saved_scanned(&sv, &dirty, true), "a lease's VF is configured");
	cr_assert_not(vf_state_differs(&sv.orig, &clean),
		      "its release restores the clean state, not the lease's (trust, rates)");
	cr_assert_not(vf_saved_scanned(&sv, &clean, false), "a clean VF needs nothing");
}

/* issue 14: a driver whose VF info lacked trust and rates when the VF was saved: the
 * restore still sends them, at their clean values, so a profile's trust or rate limit
 * never outlives its lease. */
Test(vf_job, a_restore_sends_clean_values_for_fields_the_kernel_never_reported)
{
	struct vf_job_world released = here;
	struct vf_saved sv = { .pf_saved = true,
			       .orig = { .fields = VF_F_MAC | VF_F_VLAN | VF_F_SPOOFCHK,
					 .mac = { 2, 0, 0, 0, 0, 7 }, .vlan = 12,
					 .spoofchk = false } };
	struct vf_job_action a;
	struct vf_job j;

	released.leased = false;
	vf_job_restore(&j, &target, &sv, true);
	a = expect(&j, &released, VF_ACT_SETLINK_VF);
	cr_assert_eq(a.want.fields, VF_F_PF_ALL);
	cr_assert_eq(a.want.mac[5], 7, "the saved MAC");
	cr_assert_eq(a.want.vlan, 12, "the saved VLAN");
	cr_assert_not(a.want.spoofchk, "the saved spoofchk");
	cr_assert_not(a.want.trust, "trust: clean");
	cr_assert_eq(a.want.link_state, (uint32_t)IFLA_VF_LINK_STATE_AUTO, "link: clean");
	cr_assert_eq(a.want.max_tx_rate, 0u, "rate: clean");
	cr_assert_eq(a.want.min_tx_rate, 0u, "rate: clean");
}
