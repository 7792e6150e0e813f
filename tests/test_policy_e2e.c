/* SPDX-License-Identifier: MIT */
/* The policy through the real daemon: commands over the control socket, persistence across
 * a restart, VM allocation all or nothing, hot plug, migration check, the snapshot's
 * network table, and config edits racing allocations. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/daemon_fixture.h"
#include "vfpool/vfpool.h"

static struct vfpool *conn(const struct test_daemon *d)
{
	struct vfpool *h = NULL;
	int r = vfpool_connect(d->run_dir, NULL, &h);

	cr_assert_eq(r, 0, "connect: %s", vfpool_strerror(r));
	return h;
}

/* Runs a command; returns its status and leaves its text in out (static). */
static int cmd(struct vfpool *h, const char *out_expect, int n, ...)
{
	const char *argv[16];
	static char last[1024];
	char *out = NULL;
	va_list ap;
	int r;

	va_start(ap, n);
	for (int i = 0; i < n; i++)
		argv[i] = va_arg(ap, const char *);
	va_end(ap);
	r = vfpool_command(h, n, argv, &out);
	snprintf(last, sizeof(last), "%s", out ? out : "");
	free(out);
	if (out_expect)
		cr_assert_str_eq(last, out_expect, "command %s %s", argv[0], n > 1 ? argv[1] : "");
	return r;
}

static void ok(struct vfpool *h, int n, ...)
{
	const char *argv[16];
	char *out = NULL;
	va_list ap;
	int r;

	va_start(ap, n);
	for (int i = 0; i < n; i++)
		argv[i] = va_arg(ap, const char *);
	va_end(ap);
	r = vfpool_command(h, n, argv, &out);
	cr_assert_eq(r, 0, "%s %s: %s", argv[0], n > 1 ? argv[1] : "", out ? out : vfpool_strerror(r));
	free(out);
}

static unsigned leased(const struct test_daemon *d)
{
	struct vfpool_snapshot *s;
	unsigned n = 0;

	cr_assert_eq(vfpool_snapshot_take(d->run_dir, &s), 0);
	for (unsigned i = 0; i < vfpool_snapshot_vf_count(s); i++) {
		struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);

		vfpool_snapshot_vf(s, i, &v);
		n += v.status == VFPOOL_VF_STATUS_LEASED;
	}
	vfpool_snapshot_free(s);
	return n;
}

Test(policy_daemon, config_commands_refuse_non_admin_peers_with_eperm)
{
	struct test_daemon d;
	int status;
	pid_t pid;

	test_daemon_start(&d, "2x8", NULL);
	chmod(d.run_dir, 0755);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		struct vfpool *h;
		const char *add[] = { "network", "add", "red" };
		const char *list[] = { "network", "list" };

		/* keeps gid 0 so the 0660 socket accepts it; uid 65534 is neither root nor admin */
		if (setuid(65534) != 0 || vfpool_connect(d.run_dir, NULL, &h) != 0)
			_exit(100);
		if (vfpool_command(h, 3, add, NULL) != -EPERM)
			_exit(101);
		if (vfpool_command(h, 2, list, NULL) != 0)
			_exit(102); /* read-only commands need no admin */
		vfpool_close(h);
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	cr_assert_eq(WEXITSTATUS(status), 0, "child step %d failed", WEXITSTATUS(status));
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(policy_daemon, policy_survives_a_daemon_restart)
{
	struct test_daemon d;
	char state[64] = "/tmp/vfpool-state.XXXXXX", rm[96];
	struct vfpool *h;

	cr_assert(mkdtemp(state));
	test_daemon_start(&d, "2x8", "--state-dir", state, NULL);
	h = conn(&d);
	ok(h, 7, "network", "add", "red", "--vlan", "100", "--label", "fast");
	ok(h, 7, "profile", "add", "p1", "--network", "red", "--passthrough", "preferred");
	ok(h, 5, "pf", "config", "ens1f0", "--all-networks", "off");
	ok(h, 5, "pf", "label", "add", "ens1f0", "fast");
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
	test_daemon_start(&d, "2x8", "--state-dir", state, NULL);
	h = conn(&d);
	cmd(h, "red vlan=100 mtu=0 label=fast pfs=ens1f0,ens1f1\n", 2, "network", "list");
	cmd(h, "p1 network=red passthrough=preferred port_mirroring=no qos=no leases=0\n", 2,
	    "profile", "list");
	cmd(h, "ens1f0 pci=0000:3b:00.0 numvfs=8 all_networks=no\nnetworks:\nlabels: fast\n"
	       "allowed: red\n", 3, "pf", "show", "ens1f0");
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
	snprintf(rm, sizeof(rm), "rm -rf '%s'", state);
	cr_assert_eq(system(rm), 0);
}

Test(policy_daemon, refusals_over_the_socket_name_the_objects)
{
	struct test_daemon d;
	struct vfpool *h;

	test_daemon_start(&d, "2x8", NULL);
	h = conn(&d);
	ok(h, 3, "network", "add", "red");
	cr_assert_eq(cmd(h, "profile p: a passthrough profile cannot have QoS", 8, "profile", "add",
			 "p", "--network", "red", "--passthrough", "mandatory", "--qos"), -EINVAL);
	cr_assert_eq(cmd(h, "ens1f1: all networks allowed; network red cannot be added", 5, "pf",
			 "network", "add", "ens1f1", "red"), -EINVAL);
	cr_assert_eq(cmd(h, "eth9: no such PF on this host", 3, "pf", "show", "eth9"), -ENODEV);
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(policy_daemon, corrupt_policy_file_stops_the_daemon_start)
{
	char state[64] = "/tmp/vfpool-state.XXXXXX", path[96], rm[96];
	const char *argv[8];
	int status;
	pid_t pid;
	FILE *f;

	cr_assert(mkdtemp(state));
	snprintf(path, sizeof(path), "%s/policy", state);
	f = fopen(path, "w");
	cr_assert(f);
	fputs("vfpool-policy 1\nnetwork red zero 0 -\n", f);
	fclose(f);
	argv[0] = test_build_path("vfpoold");
	argv[1] = "--simulate"; argv[2] = "1x8";
	argv[3] = "--run-dir"; argv[4] = state;
	argv[5] = "--state-dir"; argv[6] = state; argv[7] = NULL;
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1, "a corrupt policy must not be served");
	snprintf(rm, sizeof(rm), "rm -rf '%s'", state);
	cr_assert_eq(system(rm), 0);
}

static void setup_red_on_ens1f0_only(struct vfpool *h)
{
	ok(h, 3, "network", "add", "red");
	ok(h, 5, "pf", "config", "ens1f0", "--all-networks", "off");
	ok(h, 5, "pf", "config", "ens1f1", "--all-networks", "off");
	ok(h, 5, "pf", "network", "add", "ens1f0", "red");
}

Test(policy_daemon, vm_request_that_cannot_be_fully_met_leases_nothing)
{
	struct test_daemon d;
	struct vfpool_vnic_req v[9];
	struct vfpool_lease l[9] = { [0 ... 8] = VFPOOL_OPTS(vfpool_lease) };
	char names[9][8], why[256];
	struct vfpool *h;
	int r;

	test_daemon_start(&d, "2x8", NULL);
	h = conn(&d);
	setup_red_on_ens1f0_only(h);
	for (int i = 0; i < 9; i++) {
		snprintf(names[i], sizeof(names[i]), "nic%d", i);
		v[i] = VFPOOL_OPTS(vfpool_vnic_req,
			.vnic_id = names[i], .network = "red", .numa_node = -1);
	}
	r = vfpool_alloc_vm(h, "vm1", v, 9, l, why, sizeof(why));
	cr_assert_eq(r, -ENOSPC, "%d %s", r, why);
	cr_assert_str_eq(why, "vm1/nic8: ens1f0: 0 free of 8 VFs; ens1f1: network red not allowed");
	cr_assert_eq(leased(&d), 0u, "a failed VM request leaves nothing leased");
	r = vfpool_alloc_vm(h, "vm1", v, 8, l, why, sizeof(why));
	cr_assert_eq(r, 0, "%s", why);
	for (int i = 0; i < 8; i++)
		cr_assert_str_eq(l[i].pf_netdev, "ens1f0");
	cr_assert_eq(leased(&d), 8u);
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(policy_daemon, hot_plug_adds_a_vnic_and_unplug_releases_just_that_one)
{
	struct test_daemon d;
	struct vfpool_vnic_req v[2] = {
		VFPOOL_OPTS(vfpool_vnic_req, .vnic_id = "nic0", .network = "red", .numa_node = -1),
		VFPOOL_OPTS(vfpool_vnic_req, .vnic_id = "nic1", .network = "red", .numa_node = -1),
	};
	struct vfpool_vnic_req plug = VFPOOL_OPTS(vfpool_vnic_req,
		.vnic_id = "nic2", .network = "red", .numa_node = -1);
	struct vfpool_lease l[2] = { [0 ... 1] = VFPOOL_OPTS(vfpool_lease) };
	struct vfpool_lease pl = VFPOOL_OPTS(vfpool_lease);
	char why[256];
	struct vfpool *h;

	test_daemon_start(&d, "2x8", NULL);
	h = conn(&d);
	cr_assert_eq(vfpool_alloc_vm(h, "vm1", v, 2, l, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(vfpool_alloc_vm(h, "vm1", &plug, 1, &pl, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(leased(&d), 3u);
	cr_assert_eq(vfpool_release(h, "vm1", "nic2", pl.generation, NULL, 0), 0);
	cr_assert_eq(leased(&d), 2u);
	cr_assert_eq(vfpool_release(h, "vm1", "nic2", 0, NULL, 0), -ENOENT, "unplugged once");
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(policy_daemon, preferred_profile_gets_use_the_bridge_and_mandatory_fails)
{
	struct test_daemon d;
	struct vfpool_alloc_req pref = VFPOOL_OPTS(vfpool_alloc_req,
		.vm_id = "vm1", .vnic_id = "n0", .profile = "nice", .numa_node = -1);
	struct vfpool_alloc_req must = VFPOOL_OPTS(vfpool_alloc_req,
		.vm_id = "vm1", .vnic_id = "n1", .profile = "must", .numa_node = -1);
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	char why[256];
	struct vfpool *h;

	test_daemon_start(&d, "1x8", NULL);
	h = conn(&d);
	ok(h, 3, "network", "add", "red");
	ok(h, 5, "pf", "config", "ens1f0", "--all-networks", "off");
	ok(h, 7, "profile", "add", "nice", "--network", "red", "--passthrough", "preferred");
	ok(h, 7, "profile", "add", "must", "--network", "red", "--passthrough", "mandatory");
	cr_assert_eq(vfpool_alloc(h, &pref, &l, why, sizeof(why)), VFPOOL_USE_BRIDGE);
	cr_assert_str_eq(why, "ens1f0: network red not allowed");
	cr_assert_eq(vfpool_alloc(h, &must, &l, why, sizeof(why)), -ENOSPC);
	cr_assert_str_eq(why, "ens1f0: network red not allowed");
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* Regression (issue 14): a VM request with a bridge vNIC (profile not passthrough) was
 * refused whole ("profile br is not passthrough"); its passthrough vNICs get VFs and the
 * bridge vNIC the answer "use the bridge". */
Test(policy_daemon, vm_request_with_a_bridge_vnic_places_the_passthrough_ones)
{
	struct test_daemon d;
	struct vfpool_vnic_req v[3] = {
		VFPOOL_OPTS(vfpool_vnic_req, .vnic_id = "n0", .network = "red", .numa_node = -1),
		VFPOOL_OPTS(vfpool_vnic_req, .vnic_id = "n1", .profile = "br", .numa_node = -1),
		VFPOOL_OPTS(vfpool_vnic_req, .vnic_id = "n2", .profile = "fast", .numa_node = -1),
	};
	struct vfpool_lease l[3] = { [0 ... 2] = VFPOOL_OPTS(vfpool_lease) };
	char why[256] = "";
	struct vfpool *h;
	int r;

	test_daemon_start(&d, "1x8", NULL);
	h = conn(&d);
	ok(h, 3, "network", "add", "red");
	ok(h, 7, "profile", "add", "br", "--network", "red", "--passthrough", "none");
	ok(h, 7, "profile", "add", "fast", "--network", "red", "--passthrough", "mandatory");
	r = vfpool_alloc_vm(h, "vm1", v, 3, l, why, sizeof(why));
	cr_assert_eq(r, 0, "%d %s", r, why);
	cr_assert(l[0].pci_addr[0] && l[2].pci_addr[0]);
	cr_assert_eq(l[0].flags & VFPOOL_LEASE_USE_BRIDGE, 0u);
	cr_assert(l[1].flags & VFPOOL_LEASE_USE_BRIDGE, "flags %#x", l[1].flags);
	cr_assert_str_eq(l[1].pci_addr, "");
	cr_assert_eq(leased(&d), 2u);
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(policy_daemon, profile_passthrough_change_is_refused_while_leased)
{
	struct test_daemon d;
	struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req,
		.vm_id = "vm1", .vnic_id = "n0", .profile = "fast", .numa_node = -1);
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	struct vfpool *h;

	test_daemon_start(&d, "1x8", NULL);
	h = conn(&d);
	ok(h, 3, "network", "add", "red");
	ok(h, 7, "profile", "add", "fast", "--network", "red", "--passthrough", "mandatory");
	cr_assert_eq(vfpool_alloc(h, &req, &l, NULL, 0), 0);
	cr_assert_eq(cmd(h, "profile fast: passthrough mode cannot change while 1 lease uses it", 5,
			 "profile", "set", "fast", "--passthrough", "preferred"), -EBUSY);
	cr_assert_eq(vfpool_release(h, "vm1", "n0", 0, NULL, 0), 0);
	ok(h, 5, "profile", "set", "fast", "--passthrough", "preferred");
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(policy_daemon, migration_of_a_vm_holding_vfs_is_refused)
{
	struct test_daemon d;
	struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req,
		.vm_id = "vm1", .vnic_id = "n0", .network = "red", .numa_node = -1);
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	char why[256], expect[256];
	struct vfpool *h;

	test_daemon_start(&d, "1x8", NULL);
	h = conn(&d);
	cr_assert_eq(vfpool_vm_migrate_check(h, "vm1", why, sizeof(why)), 0);
	cr_assert_eq(vfpool_alloc(h, &req, &l, NULL, 0), 0);
	cr_assert_eq(vfpool_vm_migrate_check(h, "vm1", why, sizeof(why)), -EBUSY);
	snprintf(expect, sizeof(expect), "vm1: holds 1 VF: %s (n0); a VM with VFs cannot migrate",
		 l.pci_addr);
	cr_assert_str_eq(why, expect);
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(policy_daemon, snapshot_network_table_shows_allowed_pfs)
{
	struct test_daemon d;
	struct vfpool_snapshot *s;
	struct vfpool_network_info n = VFPOOL_OPTS(vfpool_network_info);
	struct vfpool *h;

	test_daemon_start(&d, "2x8", NULL);
	h = conn(&d);
	setup_red_on_ens1f0_only(h);
	cr_assert_eq(vfpool_snapshot_take(d.run_dir, &s), 0);
	cr_assert_eq(vfpool_snapshot_network_count(s), 1u);
	cr_assert_eq(vfpool_snapshot_network(s, 0, &n), 0);
	cr_assert_str_eq(n.name, "red");
	cr_assert_eq(n.pf_allowed[0], 1u, "only PF 0 (ens1f0)");
	vfpool_snapshot_free(s);
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* ---- config edits racing allocations -------------------------------------------------- */

struct race {
	const struct test_daemon *d;
	_Atomic unsigned epoch;     /* config steps whose reply has arrived */
	_Atomic bool done;
	unsigned violations, allocs;
	char violation[256];
};

/* Step k's allowed PF set, after its reply: even k only PF k/2 % 2, odd k none. */
static unsigned allowed_mask(unsigned k)
{
	return (k % 2) ? 0u : 1u << ((k / 2) % 2);
}

static void *allocator(void *arg)
{
	struct race *rc = arg;
	struct vfpool *h = NULL;

	if (vfpool_connect(rc->d->run_dir, NULL, &h) != 0)
		return NULL;
	while (!atomic_load_explicit(&rc->done, memory_order_acquire)) {
		struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req,
			.vm_id = "race", .vnic_id = "n", .network = "red", .numa_node = -1);
		struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
		/* acquire: pairs with the release store after each config reply */
		unsigned e1 = atomic_load_explicit(&rc->epoch, memory_order_acquire), e2;
		int r = vfpool_alloc(h, &req, &l, NULL, 0);

		e2 = atomic_load_explicit(&rc->epoch, memory_order_acquire);
		if (r == 0) {
			rc->allocs++;
			/* served after reply e1 and before reply e2 + 1: the set of e1 .. e2+1 */
			unsigned ok_mask = 0;
			for (unsigned k = e1; k <= e2 + 1; k++)
				ok_mask |= allowed_mask(k);
			if (!(ok_mask & (1u << l.pf_index)) && rc->violations++ == 0)
				snprintf(rc->violation, sizeof(rc->violation),
					 "lease on PF %u between config steps %u and %u", l.pf_index,
					 e1, e2 + 1);
			vfpool_release(h, "race", "n", 0, NULL, 0);
		}
	}
	vfpool_close(h);
	return NULL;
}

Test(concurrency, config_edits_and_allocations_never_use_a_stale_allowed_list)
{
	struct test_daemon d;
	struct race rc = { .d = &d };
	pthread_t t;
	struct vfpool *h;

	test_daemon_start(&d, "2x8", NULL);
	h = conn(&d);
	ok(h, 3, "network", "add", "red");
	ok(h, 5, "pf", "config", "ens1f1", "--all-networks", "off");
	ok(h, 5, "pf", "config", "ens1f0", "--all-networks", "off");
	ok(h, 5, "pf", "network", "add", "ens1f0", "red");
	/* step 0: only ens1f0 */
	cr_assert_eq(pthread_create(&t, NULL, allocator, &rc), 0);
	for (unsigned k = 1; k <= 200; k++) {
		unsigned pf = (k / 2) % 2;
		const char *name = pf ? "ens1f1" : "ens1f0";
		const char *prev = ((k - 1) / 2) % 2 ? "ens1f1" : "ens1f0";

		if (k % 2)
			ok(h, 5, "pf", "network", "del", prev, "red");
		else
			ok(h, 5, "pf", "network", "add", name, "red");
		/* release: pairs with the allocator's acquire loads */
		atomic_store_explicit(&rc.epoch, k, memory_order_release);
	}
	atomic_store_explicit(&rc.done, true, memory_order_release);
	pthread_join(t, NULL);
	cr_assert_eq(rc.violations, 0u, "%u violations; first: %s", rc.violations, rc.violation);
	cr_assert_gt(rc.allocs, 0u, "the allocator never got a VF: the test proved nothing");
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

static void ctl(const struct test_daemon *d, const char *args)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "%s --run-dir %s %s >/dev/null", test_build_path("vfpoolctl"),
		 d->run_dir, args);
	cr_assert_eq(system(cmd), 0, "vfpoolctl %s failed", args);
}

static void ctl_output(const struct test_daemon *d, const char *args, char *out, size_t len)
{
	char cmd[512];
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof(cmd), "%s --run-dir %s %s", test_build_path("vfpoolctl"), d->run_dir,
		 args);
	p = popen(cmd, "r");
	cr_assert(p);
	n = fread(out, 1, len - 1, p);
	out[n] = '\0';
	cr_assert_eq(pclose(p), 0, "vfpoolctl %s failed", args);
}

/* What a scheduler reads: free VFs per network, per PF and per NUMA node, from the
 * snapshot (no round trip), following each PF's allowed networks. */
Test(policy_daemon, capacity_counts_free_vfs_per_network_pf_and_numa_node)
{
	struct test_daemon d;
	char out[4096];

	test_daemon_start(&d, "2x4", NULL);
	ctl(&d, "network add red --vlan 10");
	ctl(&d, "network add blue");
	ctl(&d, "pf config ens1f0 --all-networks off");
	ctl(&d, "pf network add ens1f0 red");
	ctl(&d, "pf config ens1f1 --all-networks off");
	ctl(&d, "pf network add ens1f1 blue");
	ctl(&d, "alloc vm1 nic0 red");
	ctl_output(&d, "capacity --json", out, sizeof(out));
	cr_assert(strstr(out, "{\"network\":\"red\",\"pfs\":[{\"pf\":\"ens1f0\",\"numa_node\":0,"
			      "\"free\":3}],\"numa\":{\"0\":3},\"free\":3}"), "%s", out);
	cr_assert(strstr(out, "{\"network\":\"blue\",\"pfs\":[{\"pf\":\"ens1f1\",\"numa_node\":0,"
			      "\"free\":4}],\"numa\":{\"0\":4},\"free\":4}"), "%s", out);
	ctl_output(&d, "capacity --network blue", out, sizeof(out));
	cr_assert(strstr(out, "blue: ens1f1=4"), "%s", out);
	cr_assert_null(strstr(out, "red"), "only the asked network: %s", out);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* issue 14: the placement policy from the daemon's flag, a profile's, and a request's
 * NUMA requirement, through the socket and libvfpool. */
Test(policy_daemon, placement_pack_flag_profile_settings_and_numa_required)
{
	struct test_daemon d;
	struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req, .vm_id = "vm1", .vnic_id = "n0",
						  .network = "red", .numa_node = -1);
	struct vfpool_lease a = VFPOOL_OPTS(vfpool_lease), b = VFPOOL_OPTS(vfpool_lease);
	char why[256] = "";
	struct vfpool *h;

	test_daemon_start(&d, "2x4", "--placement", "pack", NULL);
	h = conn(&d);
	ok(h, 3, "network", "add", "red");
	cr_assert_eq(vfpool_alloc(h, &req, &a, why, sizeof(why)), 0, "%s", why);
	req.vnic_id = "n1";
	cr_assert_eq(vfpool_alloc(h, &req, &b, why, sizeof(why)), 0, "%s", why);
	cr_assert_str_eq(a.pf_netdev, b.pf_netdev, "--placement pack: one PF");
	/* both simulated PFs are on node 0: node 1 required is none */
	req.vnic_id = "n2";
	req.numa_node = 1;
	req.flags = VFPOOL_ALLOC_NUMA | VFPOOL_ALLOC_NUMA_REQUIRED;
	cr_assert_eq(vfpool_alloc(h, &req, &a, why, sizeof(why)), -ENOSPC, "%s", why);
	cr_assert(strstr(why, "none on NUMA node 1 (required)"), "%s", why);
	req.flags = VFPOOL_ALLOC_NUMA_REQUIRED; /* without a node: the library refuses */
	req.numa_node = -1;
	cr_assert_eq(vfpool_alloc(h, &req, &a, why, sizeof(why)), -EINVAL);
	ok(h, 11, "profile", "add", "near", "--network", "red", "--passthrough", "preferred",
	   "--placement", "spread", "--numa", "required");
	cmd(h, "near network=red passthrough=preferred port_mirroring=no qos=no placement=spread "
	       "numa=required leases=0\n", 2, "profile", "list");
	cr_assert_eq(cmd(h, "profile near: numa nearby is not preferred or required", 5, "profile",
			 "set", "near", "--numa", "nearby"), -EINVAL);
	struct vfpool_alloc_req near = VFPOOL_OPTS(vfpool_alloc_req, .vm_id = "vm2",
						   .vnic_id = "n0", .profile = "near",
						   .numa_node = 1, .flags = VFPOOL_ALLOC_NUMA);
	cr_assert_eq(vfpool_alloc(h, &near, &a, why, sizeof(why)), VFPOOL_USE_BRIDGE, "%s", why);
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* Regression (issue 14), through libvfpool and the daemon: the network vNIC listed first
 * took the VF the pinned hostdev after it names; the VM was refused ("leased to vm1/net0")
 * although the other VF was free. */
Test(policy_daemon, pinned_hostdev_after_a_network_vnic_gets_its_vf)
{
	struct test_daemon d;
	struct vfpool_snapshot *s;
	struct vfpool_vf_info vf0 = VFPOOL_OPTS(vfpool_vf_info);
	struct vfpool_vnic_req v[2];
	struct vfpool_lease l[2] = { [0 ... 1] = VFPOOL_OPTS(vfpool_lease) };
	char why[256] = "";
	struct vfpool *h;
	int r;

	test_daemon_start(&d, "1x2", NULL);
	h = conn(&d);
	ok(h, 3, "network", "add", "red");
	cr_assert_eq(vfpool_snapshot_take(d.run_dir, &s), 0);
	cr_assert_eq(vfpool_snapshot_vf(s, 0, &vf0), 0);
	vfpool_snapshot_free(s);
	v[0] = VFPOOL_OPTS(vfpool_vnic_req, .vnic_id = "net0", .network = "red", .numa_node = -1);
	v[1] = VFPOOL_OPTS(vfpool_vnic_req, .vnic_id = "hostdev0", .network = "red",
			   .pin_pci = vf0.pci_addr, .numa_node = -1);
	r = vfpool_alloc_vm(h, "vm1", v, 2, l, why, sizeof(why));
	cr_assert_eq(r, 0, "%d %s", r, why);
	cr_assert_str_eq(l[1].pci_addr, vf0.pci_addr, "the pinned vNIC has its VF");
	cr_assert_str_neq(l[0].pci_addr, vf0.pci_addr);
	cr_assert_eq(leased(&d), 2u);
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}
