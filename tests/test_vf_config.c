/* SPDX-License-Identifier: MIT */
/*
 * The VF configuration executor on its own io_uring, as the daemon drives it. The kernel
 * is real where it matters (a veth "PF" in a network namespace made by the test, which
 * refuses VF configuration); a socket the test holds stands in for it where the test must
 * decide what is answered (nothing: the timeout; a saved state: the restore).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <net/if.h>

#include "core/model/engine.h"
#include "core/model/host.h"
#include "core/loop.h"
#include "core/model/policy.h"
#include "core/model/request.h"
#include "core/model/state_segment.h"
#include "core/vfconfig/vf_config.h"
#include "shm/state.h"
#include "tests/capture_sink.h"
#include "tests/state_dir.h"


struct rig {
	struct host *host;
	void *state;
	struct engine e;
	struct io_uring ring;
	struct vf_config *vc;
	struct sink sink;
	int peer; /* the test's end of the fake kernel socket, or -1 */
};

static void enter_netns_with_pf(void)
{
	struct nl_sock *sk;

	if (geteuid() != 0)
		cr_skip_test("needs root: creates a network namespace and a veth PF");
	if (unshare(CLONE_NEWNET) < 0)
		cr_skip_test("needs root: unshare(CLONE_NEWNET) failed: %s", strerror(errno));
	sk = nl_socket_alloc();
	cr_assert_not_null(sk);
	cr_assert_eq(nl_connect(sk, NETLINK_ROUTE), 0);
	/* named like the simulated host's first PF, so the executor finds it */
	cr_assert_eq(rtnl_link_veth_add(sk, "ens1f0", "ens1f0p", getpid()), 0);
	nl_socket_free(sk);
}

/* sysfs_pci: where the VFs' sysfs directories are (NULL: the real one) */
static void rig_setup_sysfs(struct rig *g, enum vf_config_mode mode, bool fake_kernel,
			    unsigned timeout_ms, const char *sysfs_pci)
{
	struct vf_config_opts o = { .mode = mode, .timeout_ms = timeout_ms, .nl_fd = -1,
				    .sysfs_pci = sysfs_pci };
	size_t size;
	int sv[2];

	memset(g, 0, sizeof(*g));
	g->peer = -1;
	cr_assert_eq(host_simulate(1, 4, &g->host), 0);
	cr_assert_eq(state_seg_size(g->host, &size), 0);
	g->state = aligned_alloc(64, size);
	cr_assert_eq(state_seg_format(g->state, size, g->host), 0);
	cr_assert_eq(engine_init(&g->e, g->state), 0);
	cr_assert_eq(io_uring_queue_init(64, &g->ring, 0), 0);
	if (fake_kernel) {
		cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
		o.nl_fd = sv[0];
		g->peer = sv[1];
	}
	cr_assert_eq(vf_config_new(&g->ring, &g->e, &o, &g->vc), 0);
	g->sink.s.post = on_post;
}

static void rig_setup(struct rig *g, enum vf_config_mode mode, bool fake_kernel,
		      unsigned timeout_ms)
{
	rig_setup_sysfs(g, mode, fake_kernel, timeout_ms, NULL);
}

static void rig_teardown(struct rig *g)
{
	io_uring_queue_exit(&g->ring);
	vf_config_free(g->vc);
	if (g->peer >= 0)
		close(g->peer);
	engine_fini(&g->e);
	free(g->state);
	host_free(g->host);
}

/* One turn of the daemon's loop: wait for a completion, hand each to its op. */
static void turn(struct rig *g)
{
	struct io_uring_cqe *cqe;

	cr_assert_geq(io_uring_submit_and_wait(&g->ring, 1), 0);
	while (io_uring_peek_cqe(&g->ring, &cqe) == 0) {
		struct loop_op *op = io_uring_cqe_get_data(cqe);
		struct io_uring_cqe copy = *cqe;

		io_uring_cqe_seen(&g->ring, cqe);
		if (op)
			op->complete(op, &copy);
	}
}

static void run_until_idle(struct rig *g)
{
	for (int i = 0; i < 1000 && vf_config_busy(g->vc); i++)
		turn(g);
	cr_assert_eq(vf_config_busy(g->vc), 0u, "the executor finished its work");
}

static struct engine_served alloc_flags(struct rig *g, const char *vnic, uint32_t flags,
				       struct vfpool_cqe *ret)
{
	struct request r = { .user_data = 9, .op = VFPOOL_OP_ALLOC, .numa_node = -1,
			     .flags = VFPOOL_REQ_F_MAC | flags,
			     .mac = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0x01 } };

	strcpy(r.vm_id, "vm1");
	snprintf(r.vnic_id, sizeof(r.vnic_id), "%s", vnic);
	strcpy(r.network, "red");
	return engine_serve(&g->e, &r, &g->sink.s, ret);
}

/* How many completions come later (through the sink). */
static int alloc(struct rig *g, const char *vnic, struct vfpool_cqe *ret)
{
	return alloc_flags(g, vnic, 0, ret).later;
}

static int release(struct rig *g, const char *vnic, struct vfpool_cqe *ret)
{
	struct request r = { .user_data = 10, .op = VFPOOL_OP_RELEASE, .numa_node = -1 };

	strcpy(r.vm_id, "vm1");
	snprintf(r.vnic_id, sizeof(r.vnic_id), "%s", vnic);
	return engine_serve(&g->e, &r, &g->sink.s, ret).later;
}

static uint32_t allocatable(struct rig *g)
{
	struct pf_block_counts c;

	pool_pf_count(&g->e.pool.pfs[0], &c);
	return c.allocatable;
}

Test(vf_config, veth_pf_refuses_vf_config_and_the_vf_returns_to_the_pool)
{
	struct rig g;
	struct vfpool_cqe now;

	enter_netns_with_pf();
	rig_setup(&g, VF_CONFIG_AUTO, false, 2000);
	cr_assert_eq(alloc(&g, "nic0", &now), 1, "the allocation waits for the kernel");
	cr_assert_eq(allocatable(&g), 3u);
	run_until_idle(&g);
	cr_assert_eq(g.sink.posted, 1);
	cr_assert_eq(g.sink.cqe.res, -EOPNOTSUPP, "res %d: %s", g.sink.cqe.res, g.sink.cqe.message);
	cr_assert(strstr(g.sink.cqe.message, "ens1f0 vf 0: kernel refused") != NULL, "%s",
		  g.sink.cqe.message);
	cr_assert_eq(allocatable(&g), 4u, "the VF is back in the pool");
	cr_assert_eq(lease_index_count(g.e.leases), 0u);
	cr_assert_eq(state_vfs(g.e.hdr)[0].state, VFPOOL_VF_FREE);
	rig_teardown(&g);
}

Test(vf_config, a_kernel_that_never_answers_times_out_and_the_vf_returns)
{
	struct rig g;
	struct vfpool_cqe now;

	enter_netns_with_pf();
	rig_setup(&g, VF_CONFIG_ON, true, 50);
	cr_assert_eq(alloc(&g, "nic0", &now), 1);
	run_until_idle(&g);
	cr_assert_eq(g.sink.posted, 1);
	cr_assert_eq(g.sink.cqe.res, -ETIMEDOUT);
	cr_assert(strstr(g.sink.cqe.message, "ens1f0: no answer from the kernel in 50 ms"),
		  "%s", g.sink.cqe.message);
	cr_assert_eq(allocatable(&g), 4u);
	cr_assert_eq(lease_index_count(g.e.leases), 0u);
	rig_teardown(&g);
}

/* The fake kernel: reads one request, answers it (state: an RTM_NEWLINK first). */
static struct nlmsghdr *peer_read(struct rig *g, uint8_t *buf, size_t n)
{
	ssize_t len = recv(g->peer, buf, n, MSG_DONTWAIT);

	cr_assert_gt(len, 0, "the executor sent a request");
	return (struct nlmsghdr *)buf;
}

static void peer_ack(struct rig *g, const struct nlmsghdr *req, int error)
{
	struct {
		struct nlmsghdr h;
		struct nlmsgerr e;
	} ack = { .h = { .nlmsg_len = sizeof(ack), .nlmsg_type = NLMSG_ERROR,
			 .nlmsg_flags = NLM_F_CAPPED, .nlmsg_seq = req->nlmsg_seq },
		  .e = { .error = error, .msg = *req } };

	cr_assert_eq(send(g->peer, &ack, sizeof(ack), 0), (ssize_t)sizeof(ack));
}

static void peer_state(struct rig *g, const struct nlmsghdr *req, const struct vf_state *s)
{
	struct nl_msg *msg;

	cr_assert_eq(vf_msg_build_pf(2, 0, s, &msg), 0);
	nlmsg_hdr(msg)->nlmsg_type = RTM_NEWLINK;
	nlmsg_hdr(msg)->nlmsg_seq = req->nlmsg_seq;
	cr_assert_gt(send(g->peer, nlmsg_hdr(msg), nlmsg_hdr(msg)->nlmsg_len, 0), 0);
	nlmsg_free(msg);
}

Test(vf_config, release_restores_the_state_saved_before_the_first_change)
{
	struct rig g;
	struct vfpool_cqe now;
	uint8_t buf[8192];
	struct nlmsghdr *req;
	struct vf_state orig = { .fields = VF_F_PF_ALL, .mac = { 2, 0, 0, 0, 0, 7 },
				 .vlan = 12, .qos = 1, .spoofchk = false, .trust = true,
				 .link_state = IFLA_VF_LINK_STATE_DISABLE, .max_tx_rate = 900 };
	struct vf_state sent;

	enter_netns_with_pf();
	rig_setup(&g, VF_CONFIG_ON, true, 2000);
	cr_assert_eq(alloc(&g, "nic0", &now), 1);
	turn(&g); /* the GETLINK goes out */
	req = peer_read(&g, buf, sizeof(buf));
	cr_assert_eq(req->nlmsg_type, RTM_GETLINK);
	peer_state(&g, req, &orig);
	peer_ack(&g, req, 0);
	while (g.sink.posted == 0) {
		turn(&g);
		if (recv(g.peer, buf, sizeof(buf), MSG_DONTWAIT | MSG_PEEK) > 0) {
			req = peer_read(&g, buf, sizeof(buf));
			cr_assert_eq(req->nlmsg_type, RTM_SETLINK);
			cr_assert_eq(vf_msg_parse(req, 0, &sent), 0);
			cr_assert_eq(sent.mac[5], 0x01, "the lease's MAC is applied");
			peer_ack(&g, req, 0);
		}
	}
	cr_assert_eq(g.sink.cqe.res, 0, "%s", g.sink.cqe.message);
	cr_assert_eq(state_vfs(g.e.hdr)[0].cfg_state, VFPOOL_CFG_APPLIED);

	cr_assert_eq(release(&g, "nic0", &now), 0);
	cr_assert_eq(now.res, 0);
	cr_assert_eq(allocatable(&g), 3u, "held until the VF is clean");
	while (vf_config_busy(g.vc)) {
		turn(&g);
		if (recv(g.peer, buf, sizeof(buf), MSG_DONTWAIT | MSG_PEEK) > 0) {
			req = peer_read(&g, buf, sizeof(buf));
			cr_assert_eq(req->nlmsg_type, RTM_SETLINK);
			cr_assert_eq(vf_msg_parse(req, 0, &sent), 0);
			cr_assert_not(vf_state_differs(&sent, &orig), "restore sends the original");
			cr_assert_eq(sent.fields, VF_F_PF_ALL);
			peer_ack(&g, req, 0);
		}
	}
	cr_assert_eq(allocatable(&g), 4u);
	rig_teardown(&g);
}

/* issue 14: a profile's VF settings (trust, spoofchk, link state, TX rates) reach the
 * kernel with the lease, and its release sets the VF back as it was before. */
Test(vf_config, profile_vf_settings_are_applied_and_the_release_restores_the_vf)
{
	struct rig g;
	struct vfpool_cqe now;
	uint8_t buf[8192];
	struct nlmsghdr *req;
	struct vf_state orig, sent;
	struct policy p;
	struct policy_network net = { .name = "red" };
	struct policy_profile pr = { .name = "fast", .network = "red",
				     .passthrough = POLICY_PT_MANDATORY,
				     .trust = POLICY_SWITCH_ON, .spoofchk = POLICY_SWITCH_OFF,
				     .link_state = POLICY_LINK_ENABLE, .max_tx_rate = 1000,
				     .min_tx_rate = 100 };
	struct request r = { .user_data = 9, .op = VFPOOL_OP_ALLOC, .numa_node = -1,
			     .flags = VFPOOL_REQ_F_PROFILE, .vm_id = "vm1", .vnic_id = "nic0",
			     .profile = "fast" };
	bool applied = false;

	vf_state_clean(&orig); /* a VF nobody configured: trust off, spoofchk on, no rate */
	enter_netns_with_pf();
	rig_setup(&g, VF_CONFIG_ON, true, 2000);
	cr_assert_eq(policy_init(&p, 1, NULL, NULL), 0);
	cr_assert_eq(policy_network_add(&p, &net, NULL, 0), 0);
	cr_assert_eq(policy_profile_add(&p, &pr, NULL, 0), 0);
	g.e.policy = &p;
	cr_assert_eq(engine_serve(&g.e, &r, &g.sink.s, &now).later, 1);
	turn(&g); /* the GETLINK goes out */
	req = peer_read(&g, buf, sizeof(buf));
	cr_assert_eq(req->nlmsg_type, RTM_GETLINK);
	peer_state(&g, req, &orig);
	peer_ack(&g, req, 0);
	while (g.sink.posted == 0) {
		turn(&g);
		if (recv(g.peer, buf, sizeof(buf), MSG_DONTWAIT | MSG_PEEK) > 0) {
			req = peer_read(&g, buf, sizeof(buf));
			cr_assert_eq(req->nlmsg_type, RTM_SETLINK);
			cr_assert_eq(vf_msg_parse(req, 0, &sent), 0);
			cr_assert(sent.trust && !sent.spoofchk, "trust on, spoofchk off");
			cr_assert_eq(sent.link_state, (uint32_t)IFLA_VF_LINK_STATE_ENABLE);
			cr_assert_eq(sent.max_tx_rate, 1000u);
			cr_assert_eq(sent.min_tx_rate, 100u);
			applied = true;
			peer_ack(&g, req, 0);
		}
	}
	cr_assert(applied);
	cr_assert_eq(g.sink.cqe.res, 0, "%s", g.sink.cqe.message);

	cr_assert_eq(release(&g, "nic0", &now), 0);
	applied = false;
	while (vf_config_busy(g.vc)) {
		turn(&g);
		if (recv(g.peer, buf, sizeof(buf), MSG_DONTWAIT | MSG_PEEK) > 0) {
			req = peer_read(&g, buf, sizeof(buf));
			cr_assert_eq(req->nlmsg_type, RTM_SETLINK);
			cr_assert_eq(vf_msg_parse(req, 0, &sent), 0);
			cr_assert_not(vf_state_differs(&sent, &orig), "restore sends the original");
			cr_assert(!sent.trust && sent.spoofchk && sent.max_tx_rate == 0);
			applied = true;
			peer_ack(&g, req, 0);
		}
	}
	cr_assert(applied, "the release restored the VF");
	cr_assert_eq(allocatable(&g), 4u);
	rig_teardown(&g);
	policy_fini(&p);
}

Test(vf_config, a_failed_restore_quarantines_the_vf)
{
	struct rig g;
	struct vfpool_cqe now;
	uint8_t buf[8192];
	struct nlmsghdr *req;
	struct vf_state orig;

	vf_state_clean(&orig);
	enter_netns_with_pf();
	rig_setup(&g, VF_CONFIG_ON, true, 2000);
	cr_assert_eq(alloc(&g, "nic0", &now), 1);
	while (g.sink.posted == 0) {
		turn(&g);
		if (recv(g.peer, buf, sizeof(buf), MSG_DONTWAIT | MSG_PEEK) > 0) {
			req = peer_read(&g, buf, sizeof(buf));
			if (req->nlmsg_type == RTM_GETLINK)
				peer_state(&g, req, &orig);
			peer_ack(&g, req, 0);
		}
	}
	cr_assert_eq(release(&g, "nic0", &now), 0);
	while (vf_config_busy(g.vc)) {
		turn(&g);
		if (recv(g.peer, buf, sizeof(buf), MSG_DONTWAIT | MSG_PEEK) > 0) {
			req = peer_read(&g, buf, sizeof(buf));
			peer_ack(&g, req, -EBUSY);
		}
	}
	cr_assert_eq(allocatable(&g), 3u, "a dirty VF is not handed on");
	cr_assert(pool_is_blocked(&g.e.pool.pfs[0], 0, VFPOOL_BLOCK_DIRTY));
	cr_assert_str_eq(state_vfs(g.e.hdr)[0].reason, "reset failed: Device or resource busy");
	rig_teardown(&g);
}

/* The fake kernel answers every request until the executor is idle: a GETLINK with state,
 * everything else with error (0: ACK). */
static void peer_serve_all(struct rig *g, const struct vf_state *state, int error)
{
	uint8_t buf[8192];

	while (vf_config_busy(g->vc)) {
		turn(g);
		if (recv(g->peer, buf, sizeof(buf), MSG_DONTWAIT | MSG_PEEK) > 0) {
			struct nlmsghdr *req = peer_read(g, buf, sizeof(buf));

			if (req->nlmsg_type == RTM_GETLINK) {
				peer_state(g, req, state);
				peer_ack(g, req, 0);
			} else {
				peer_ack(g, req, error);
			}
		}
	}
}

Test(vf_config, an_early_allocation_is_told_twice_first_with_more)
{
	struct rig g;
	struct vfpool_cqe now;
	struct vf_state clean;

	vf_state_clean(&clean);
	enter_netns_with_pf();
	rig_setup(&g, VF_CONFIG_ON, true, 2000);
	struct engine_served s = alloc_flags(&g, "nic0", VFPOOL_REQ_F_EARLY, &now);

	cr_assert_eq(s.later, 1, "one completion still to come");
	cr_assert(s.now, "the first goes out now");
	cr_assert_eq(now.res, 0);
	cr_assert(now.flags & VFPOOL_CQE_F_MORE);
	cr_assert_str_eq(now.pci_addr, state_vfs(g.e.hdr)[now.vf_slot].pci_addr);
	cr_assert_eq(state_vfs(g.e.hdr)[now.vf_slot].cfg_state, VFPOOL_CFG_PENDING);
	cr_assert_eq(g.sink.posted, 0);
	peer_serve_all(&g, &clean, 0);
	cr_assert_eq(g.sink.posted, 1);
	cr_assert_eq(g.sink.cqe.res, 0, "%s", g.sink.cqe.message);
	cr_assert_not(g.sink.cqe.flags & VFPOOL_CQE_F_MORE, "the second is the last");
	cr_assert_eq(g.sink.cqe.generation, now.generation);
	cr_assert_eq(state_vfs(g.e.hdr)[now.vf_slot].cfg_state, VFPOOL_CFG_APPLIED);
	rig_teardown(&g);
}

Test(vf_config, an_early_allocation_the_kernel_refuses_is_told_why_and_undone)
{
	struct rig g;
	struct vfpool_cqe now;
	struct vf_state clean;

	vf_state_clean(&clean);
	enter_netns_with_pf();
	rig_setup(&g, VF_CONFIG_ON, true, 2000);
	cr_assert_eq(alloc_flags(&g, "nic0", VFPOOL_REQ_F_EARLY, &now).later, 1);
	cr_assert(now.flags & VFPOOL_CQE_F_MORE);
	cr_assert_eq(allocatable(&g), 3u);
	peer_serve_all(&g, &clean, -EINVAL);
	cr_assert_eq(g.sink.posted, 1);
	cr_assert_eq(g.sink.cqe.res, -EINVAL);
	cr_assert(strstr(g.sink.cqe.message, "ens1f0 vf 0: kernel refused"), "%s",
		  g.sink.cqe.message);
	cr_assert_not(g.sink.cqe.flags & VFPOOL_CQE_F_MORE);
	cr_assert_eq(allocatable(&g), 4u, "the lease is undone");
	cr_assert_eq(lease_index_count(g.e.leases), 0u);
	rig_teardown(&g);
}

Test(vf_config, a_released_vfio_vf_is_reset_before_it_returns_to_the_pool)
{
	char dir[64], path[256], content[8] = "";
	struct vf_state clean;
	struct vfpool_cqe now;
	struct rig g;
	const char *pci;
	FILE *f;

	vf_state_clean(&clean);
	enter_netns_with_pf();
	state_dir_make(dir, sizeof(dir)); /* stands in for /sys/bus/pci/devices */
	rig_setup_sysfs(&g, VF_CONFIG_ON, true, 2000, dir);
	/* a real host's VF 0, bound to vfio-pci: its sysfs directory, as the kernel has it */
	g.e.hdr->host_kind = VFPOOL_HOST_UDEV;
	pci = state_vfs(g.e.hdr)[0].pci_addr;
	snprintf(path, sizeof(path), "%s/%s", dir, pci);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/%s/driver", dir, pci);
	cr_assert_eq(symlink("../../../bus/pci/drivers/vfio-pci", path), 0);
	snprintf(path, sizeof(path), "%s/%s/reset", dir, pci);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fclose(f);

	cr_assert_eq(alloc(&g, "nic0", &now), 1);
	peer_serve_all(&g, &clean, 0);
	cr_assert_eq(g.sink.cqe.res, 0, "%s", g.sink.cqe.message);
	cr_assert_eq(release(&g, "nic0", &now), 0);
	cr_assert_eq(allocatable(&g), 3u, "held until it is restored and reset");
	peer_serve_all(&g, &clean, 0);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(content, sizeof(content), f));
	fclose(f);
	cr_assert_str_eq(content, "1", "the function-level reset was written");
	cr_assert_eq(allocatable(&g), 4u);
	rig_teardown(&g);
	state_dir_remove(dir);
}

/* ---- the network's MTU on a real VF netdev -------------------------------------------- */

/* The fake kernel for the PF (a veth cannot take VF configuration), the real one for the VF
 * netdev: requests about vf_ifindex are relayed to the kernel and its answers back. */
static void peer_relay_vf(struct rig *g, int rtnl, int vf_ifindex)
{
	uint8_t buf[8192];
	static uint8_t ans[65536];
	struct vf_state clean;

	vf_state_clean(&clean);
	while (vf_config_busy(g->vc)) {
		struct nlmsghdr *req;
		const struct ifinfomsg *ifi;

		turn(g);
		if (recv(g->peer, buf, sizeof(buf), MSG_DONTWAIT | MSG_PEEK) <= 0)
			continue;
		req = peer_read(g, buf, sizeof(buf));
		ifi = NLMSG_DATA(req);
		if (ifi->ifi_index != vf_ifindex) {
			if (req->nlmsg_type == RTM_GETLINK)
				peer_state(g, req, &clean);
			peer_ack(g, req, 0);
			continue;
		}
		cr_assert_eq(send(rtnl, req, req->nlmsg_len, 0), (ssize_t)req->nlmsg_len);
		for (bool acked = false; !acked;) {
			ssize_t n = recv(rtnl, ans, sizeof(ans), MSG_TRUNC);
			int left = (int)n;

			cr_assert_gt(n, 0);
			cr_assert_leq(n, (ssize_t)sizeof(ans), "the kernel's answer fits");
			for (struct nlmsghdr *h = (struct nlmsghdr *)ans; NLMSG_OK(h, left);
			     h = NLMSG_NEXT(h, left))
				acked = acked || h->nlmsg_type == NLMSG_ERROR;
			cr_assert_eq(send(g->peer, ans, (size_t)n, 0), n);
		}
	}
}

static unsigned link_mtu(const char *name)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct rtnl_link *l = NULL;
	unsigned mtu;

	cr_assert_eq(nl_connect(sk, NETLINK_ROUTE), 0);
	cr_assert_eq(rtnl_link_get_kernel(sk, 0, name, &l), 0, "%s exists", name);
	mtu = rtnl_link_get_mtu(l);
	rtnl_link_put(l);
	nl_socket_free(sk);
	return mtu;
}

Test(vf_config, the_network_mtu_reaches_the_vf_netdev_and_release_restores_it)
{
	struct policy_network red = { .name = "red", .vlan = 7, .mtu = 1400 };
	struct policy p;
	struct rig g;
	struct vfpool_cqe now;
	struct nl_sock *sk;
	char why[128];
	int rtnl, vf_if;

	enter_netns_with_pf();
	sk = nl_socket_alloc();
	cr_assert_eq(nl_connect(sk, NETLINK_ROUTE), 0);
	/* named like the simulated host's first VF netdev */
	cr_assert_eq(rtnl_link_veth_add(sk, "ens1f0v0", "ens1f0v0p", getpid()), 0);
	nl_socket_free(sk);
	cr_assert_eq(link_mtu("ens1f0v0"), 1500u);
	vf_if = (int)if_nametoindex("ens1f0v0");
	rtnl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	cr_assert_geq(rtnl, 0);

	rig_setup(&g, VF_CONFIG_ON, true, 2000);
	cr_assert_eq(policy_init(&p, 1, NULL, NULL), 0);
	cr_assert_eq(policy_network_add(&p, &red, why, sizeof(why)), 0, "%s", why);
	g.e.policy = &p;
	cr_assert_eq(alloc(&g, "nic0", &now), 1);
	cr_assert_str_eq(state_vfs(g.e.hdr)[0].netdev, "ens1f0v0");
	peer_relay_vf(&g, rtnl, vf_if);
	cr_assert_eq(g.sink.posted, 1);
	cr_assert_eq(g.sink.cqe.res, 0, "%s", g.sink.cqe.message);
	cr_assert_eq(link_mtu("ens1f0v0"), 1400u, "the kernel has the network's MTU");
	/* what vfpoolctl snapshot shows: the lease's applied config */
	cr_assert_eq(state_vfs(g.e.hdr)[0].mtu, 1400u);
	cr_assert_eq(state_vfs(g.e.hdr)[0].vlan, 7);
	cr_assert_eq(state_vfs(g.e.hdr)[0].cfg_state, VFPOOL_CFG_APPLIED);

	cr_assert_eq(release(&g, "nic0", &now), 0);
	peer_relay_vf(&g, rtnl, vf_if);
	cr_assert_eq(link_mtu("ens1f0v0"), 1500u, "release put the MTU back");
	cr_assert_eq(allocatable(&g), 4u);
	close(rtnl);
	g.e.policy = NULL;
	rig_teardown(&g);
	policy_fini(&p);
}

/* ---- start-up scan -------------------------------------------------------------------- */

Test(vf_config, a_vf_left_configured_without_a_lease_is_reset_before_reuse)
{
	struct rig g;
	struct vfpool_cqe now;
	uint8_t buf[8192];
	struct nlmsghdr *req;
	struct vf_state dirty = { .fields = VF_F_PF_ALL, .mac = { 2, 0, 0, 0, 0, 9 },
				  .vlan = 30, .spoofchk = true,
				  .link_state = IFLA_VF_LINK_STATE_AUTO };
	struct vf_state sent, clean;
	bool reset_sent = false;

	vf_state_clean(&clean);
	enter_netns_with_pf();
	rig_setup(&g, VF_CONFIG_ON, true, 2000);
	vf_config_scan(g.vc);
	turn(&g);
	req = peer_read(&g, buf, sizeof(buf));
	cr_assert_eq(req->nlmsg_type, RTM_GETLINK, "the scan reads the PF's VFs");
	peer_state(&g, req, &dirty); /* VF 0 still carries a crashed lease's VLAN and MAC */
	peer_ack(&g, req, 0);
	while (!reset_sent) {
		turn(&g);
		if (recv(g.peer, buf, sizeof(buf), MSG_DONTWAIT | MSG_PEEK) > 0) {
			req = peer_read(&g, buf, sizeof(buf));
			cr_assert_eq(req->nlmsg_type, RTM_SETLINK);
			cr_assert_eq(vf_msg_parse(req, 0, &sent), 0);
			cr_assert_not(vf_state_differs(&sent, &clean), "the reset sends the clean state");
			reset_sent = true;
			/* while the reset is in flight the VF is nobody's to take */
			cr_assert_eq(allocatable(&g), 3u);
			cr_assert_eq(alloc(&g, "nic0", &now), 1);
			cr_assert_neq(now.vf_slot, 0u, "the dirty VF is not handed out");
			peer_ack(&g, req, 0);
		}
	}
	peer_serve_all(&g, &clean, 0);
	cr_assert_eq(allocatable(&g), 3u, "the reset VF is back; nic0 holds another");
	cr_assert_not(pool_is_blocked(&g.e.pool.pfs[0], 0, VFPOOL_BLOCK_DIRTY));
	rig_teardown(&g);
}

Test(vf_config, a_configuration_failure_is_counted_once_as_a_config_error)
{
	struct rig g;
	struct vfpool_cqe now;

	enter_netns_with_pf();
	rig_setup(&g, VF_CONFIG_ON, true, 50);
	cr_assert_eq(alloc(&g, "nic0", &now), 1);
	cr_assert_eq(atomic_load(&g.e.hdr->errors), 0u, "a kept request is no failure yet");
	run_until_idle(&g);
	cr_assert_eq(g.sink.cqe.res, -ETIMEDOUT);
	cr_assert_eq(atomic_load(&g.e.hdr->errors_by_kind[VFPOOL_ERR_CONFIG]), 1u);
	cr_assert_eq(atomic_load(&g.e.hdr->errors_by_kind[VFPOOL_ERR_OTHER]), 0u,
		     "classified by where it failed, not by its errno");
	cr_assert_eq(atomic_load(&g.e.hdr->errors), 1u);
	rig_teardown(&g);
}
