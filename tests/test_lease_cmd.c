/* SPDX-License-Identifier: MIT */
/* lease list / release / gc over the control socket, and who may use them. */
#include <criterion/criterion.h>
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shm/control_proto.h"
#include "tests/daemon_fixture.h"
#include "vfpool/vfpool.h"

static void alloc_ok(struct vfpool *h, const char *vm, const char *vnic)
{
	struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req,
		.vm_id = vm, .vnic_id = vnic, .network = "red", .numa_node = -1);
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);

	cr_assert_eq(vfpool_alloc(h, &req, &l, NULL, 0), 0, "alloc %s/%s", vm, vnic);
}

static int run(struct vfpool *h, char **out, int argc, const char *const *argv)
{
	*out = NULL;
	return vfpool_command(h, argc, argv, out);
}

static unsigned count_lines(const char *s)
{
	unsigned n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

Test(lease_cmd, list_shows_every_lease_and_filters_by_vm)
{
	struct test_daemon d;
	char *out;

	test_daemon_start(&d, "1x8", NULL);
	struct vfpool *h = connect_ok(&d);
	alloc_ok(h, "vm1", "nic0");
	alloc_ok(h, "vm1", "nic1");
	alloc_ok(h, "vm2", "nic0");
	cr_assert_eq(run(h, &out, 2, (const char *[]){ "lease", "list" }), 0);
	cr_assert_eq(count_lines(out), 3u, "%s", out);
	free(out);
	cr_assert_eq(run(h, &out, 4, (const char *[]){ "lease", "list", "--vm", "vm2" }), 0);
	cr_assert_eq(count_lines(out), 1u, "%s", out);
	cr_assert(strstr(out, "vm2 nic0 "), "%s", out);
	free(out);
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* Wrong words are a usage error the client can tell from a refused value: the policy's
 * and the leases' commands answer VFPOOL_CTL_EUSAGE with their usage. */
Test(lease_cmd, wrong_words_answer_the_usage_status)
{
	static const struct {
		int argc;
		const char *argv[4];
		const char *usage;
	} cases[] = {
		{ 2, { "lease", "release" }, "usage: lease release VM [VNIC]" },
		{ 2, { "lease", "gc" }, "usage: lease gc VM..." },
		{ 3, { "lease", "list", "--bogus" }, "usage: lease list [--vm VM]" },
		{ 2, { "network", "add" }, "usage: network add NAME" },
		{ 4, { "network", "add", "red", "--vlan" }, "usage: network add NAME" },
		{ 2, { "profile", "del" }, "usage: profile del NAME" },
	};
	struct test_daemon d;
	char *out;

	test_daemon_start(&d, "1x2", NULL);
	struct vfpool *h = connect_ok(&d);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = run(h, &out, cases[i].argc, cases[i].argv);

		cr_assert_eq(r, -VFPOOL_CTL_EUSAGE, "%s %s: status %d (%s), not the usage status",
			     cases[i].argv[0], cases[i].argv[1], r, out);
		cr_assert(strncmp(out, cases[i].usage, strlen(cases[i].usage)) == 0, "%s", out);
		free(out);
	}
	/* a refused value is not a usage error */
	cr_assert_eq(run(h, &out, 5, (const char *[]){ "network", "add", "red", "--vlan", "5000" }),
		     -ERANGE, "%s", out);
	free(out);
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(lease_cmd, release_frees_one_vnic_or_a_whole_vm)
{
	struct test_daemon d;
	char *out;

	test_daemon_start(&d, "1x8", NULL);
	struct vfpool *h = connect_ok(&d);
	alloc_ok(h, "vm1", "nic0");
	alloc_ok(h, "vm1", "nic1");
	alloc_ok(h, "vm1", "nic2");
	cr_assert_eq(run(h, &out, 4, (const char *[]){ "lease", "release", "vm1", "nic1" }), 0);
	cr_assert_str_eq(out, "released 1 leases");
	free(out);
	cr_assert_eq(run(h, &out, 3, (const char *[]){ "lease", "release", "vm1" }), 0);
	cr_assert_str_eq(out, "released 2 leases");
	free(out);
	cr_assert_eq(run(h, &out, 2, (const char *[]){ "lease", "list" }), 0);
	cr_assert_str_eq(out, "");
	free(out);
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(lease_cmd, gc_releases_every_lease_of_the_named_vms_only)
{
	struct test_daemon d;
	char *out;

	test_daemon_start(&d, "1x8", NULL);
	struct vfpool *h = connect_ok(&d);
	alloc_ok(h, "gone1", "nic0");
	alloc_ok(h, "gone2", "nic0");
	alloc_ok(h, "gone2", "nic1");
	alloc_ok(h, "alive", "nic0");
	cr_assert_eq(run(h, &out, 4, (const char *[]){ "lease", "gc", "gone1", "gone2" }), 0);
	cr_assert_str_eq(out, "released 3 leases");
	free(out);
	cr_assert_eq(run(h, &out, 2, (const char *[]){ "lease", "list" }), 0);
	cr_assert_eq(count_lines(out), 1u, "%s", out);
	cr_assert(strstr(out, "alive nic0 "), "%s", out);
	free(out);
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* In a child that dropped root (uid 65534, still in group 0 to reach the 0660 socket). */
static int command_as_nobody(const struct test_daemon *d, int argc, const char *const *argv)
{
	int status;
	pid_t pid = fork();

	cr_assert(pid >= 0);
	if (pid == 0) {
		struct vfpool *h;
		char *out = NULL;
		int r;

		if (setgroups(0, NULL) || setgid(0) || setuid(65534))
			_exit(100);
		if (vfpool_connect(d->run_dir, NULL, &h))
			_exit(101);
		r = vfpool_command(h, argc, argv, &out);
		_exit(r == -EPERM ? 0 : r == 0 ? 1 : 2);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

Test(lease_cmd, non_admin_may_list_but_not_release)
{
	struct test_daemon d;
	char *out;

	if (geteuid() != 0)
		cr_skip_test("needs root to drop to uid 65534 in a child");
	test_daemon_start(&d, "1x8", NULL);
	cr_assert_eq(chmod(d.run_dir, 0750), 0);
	struct vfpool *h = connect_ok(&d);
	alloc_ok(h, "vm1", "nic0");
	cr_assert_eq(command_as_nobody(&d, 2, (const char *[]){ "lease", "list" }), 1,
		     "listing is for anyone");
	cr_assert_eq(command_as_nobody(&d, 3, (const char *[]){ "lease", "release", "vm1" }), 0,
		     "release by a non-admin must be EPERM");
	cr_assert_eq(command_as_nobody(&d, 3, (const char *[]){ "lease", "gc", "vm1" }), 0,
		     "gc by a non-admin must be EPERM");
	cr_assert_eq(run(h, &out, 2, (const char *[]){ "lease", "list" }), 0);
	cr_assert_eq(count_lines(out), 1u, "the lease is still there: %s", out);
	free(out);
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}
