/* SPDX-License-Identifier: MIT */
/*
 * Client slots against a real vfpoold: unprivileged peers (children that dropped to other
 * uids) take connections until refused, and root must still get in and be served.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/daemon_fixture.h"
#include "vfpool/vfpool.h"

/* What a peer got: how many connections, and why the next one was refused. */
struct hold_report {
	int held;
	int refused; /* the refusal's error, 0 if none came within the tries */
	char why[160];
};

struct holder {
	pid_t pid; /* holds its connections until killed */
	struct hold_report rep;
};

static char refusal[160];

static void keep_refusal(enum vfpool_log_level level, const char *msg, void *userdata)
{
	const char *p = strstr(msg, "refused: ");

	(void)level;
	(void)userdata;
	if (p)
		snprintf(refusal, sizeof(refusal), "%s", p + strlen("refused: "));
}

/* A peer with uid/gid (and one supplementary group unless (gid_t)-1) that connects up to
 * tries times, stops at the first refusal, then asks twice more (a peer retrying: the
 * daemon logs the run once), reports, and holds its connections until killed. */
static void hold_as(const struct test_daemon *d, uid_t uid, gid_t gid, gid_t extra, int tries,
		    struct holder *h)
{
	int rep[2];

	cr_assert_eq(pipe(rep), 0);
	h->pid = fork();
	cr_assert(h->pid >= 0);
	if (h->pid == 0) {
		struct hold_report r = { 0 };
		struct vfpool *conns[64];

		close(rep[0]);
		if (setgroups(extra == (gid_t)-1 ? 0 : 1, &extra) || setgid(gid) || setuid(uid))
			_exit(100);
		/* dies with the test, whatever assertion ends it (after setuid, which clears it) */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() == 1)
			_exit(102);
		vfpool_set_log_fn(keep_refusal, NULL);
		for (int i = 0; i < tries && i < 64; i++) {
			int e = vfpool_connect(d->run_dir, NULL, &conns[r.held]);

			if (e == 0) {
				r.held++;
				continue;
			}
			r.refused = e;
			snprintf(r.why, sizeof(r.why), "%s", refusal);
			for (int k = 0; k < 2; k++) {
				struct vfpool *again = NULL;

				if (vfpool_connect(d->run_dir, NULL, &again) == 0)
					vfpool_close(again);
			}
			break;
		}
		if (write(rep[1], &r, sizeof(r)) != (ssize_t)sizeof(r))
			_exit(101);
		for (;;)
			pause();
	}
	close(rep[1]);
	cr_assert_eq(read(rep[0], &h->rep, sizeof(h->rep)), (ssize_t)sizeof(h->rep),
		     "the peer did not report (it could not drop its rights?)");
	close(rep[0]);
}

static void release(struct holder *h)
{
	kill(h->pid, SIGKILL);
	cr_assert_eq(waitpid(h->pid, NULL, 0), h->pid);
}

/* Root connects and runs a command: the operator is never locked out. */
static void root_runs_a_command(const struct test_daemon *d)
{
	const char *words[] = { "lease", "list" };
	struct vfpool *h = NULL;
	char *out = NULL;
	int r = vfpool_connect(d->run_dir, NULL, &h);

	cr_assert_eq(r, 0, "root could not connect: %s", vfpool_strerror(r));
	cr_assert_eq(vfpool_command(h, 2, words, &out), 0, "%s", out ? out : "");
	free(out);
	vfpool_close(h);
}

static unsigned log_count(const struct test_daemon *d, const char *a, const char *b)
{
	FILE *f = fopen(d->log_path, "re");
	char line[1024];
	unsigned n = 0;

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		n += strstr(line, a) && strstr(line, b);
	fclose(f);
	return n;
}

/* The fixture's readiness probe (client 1) holds a root slot until the daemon reaps its
 * close; the slot counts below must not depend on when that happens. */
static void wait_probe_gone(const struct test_daemon *d)
{
	for (int i = 0; i < 1000 && !log_count(d, "event=client_disconnected", "client=1 "); i++)
		usleep(10000);
	cr_assert_eq(log_count(d, "event=client_disconnected", "client=1 "), 1u);
}

/* Up to two more flags with their values (NULL: none). */
static void start(struct test_daemon *d, const char *max, const char *f1, const char *v1,
		  const char *f2, const char *v2)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to run peers as other uids");
	if (!getgrnam("nogroup"))
		cr_skip_test("no group 'nogroup' to give unprivileged peers the socket");
	test_daemon_start(d, "1x4", "--max-clients", max, "--socket-group", "nogroup",
			  f1, v1, f2, v2, NULL);
	/* the other uids must reach the socket (0660, group nogroup) */
	cr_assert_eq(chmod(d->run_dir, 0755), 0);
	wait_probe_gone(d);
}

/* Regression: one socket-group user held all 256 slots and root's commands were refused
 * ("Too many users"). With --max-clients 16 the default cap is 4 per uid. */
Test(admission, one_uid_gets_exactly_its_cap_and_root_still_runs_commands)
{
	gid_t nog = getgrnam("nogroup") ? getgrnam("nogroup")->gr_gid : 0;
	struct test_daemon d;
	struct holder u;

	start(&d, "16", NULL, NULL, NULL, NULL);
	hold_as(&d, 65534, nog, (gid_t)-1, 16, &u);
	cr_assert_eq(u.rep.held, 4, "uid 65534 got %d of 16 slots", u.rep.held);
	cr_assert_eq(u.rep.refused, -EUSERS);
	cr_assert_str_eq(u.rep.why, "uid 65534 has 4 connections (--max-clients-per-uid 4)");
	root_runs_a_command(&d);
	/* three refusals in a row, one line (after root's command: the loop has logged) */
	cr_assert_eq(log_count(&d, "event=client_refused", "uid=65534 "), 1u);
	cr_assert_eq(log_count(&d, "event=client_refused", "--max-clients-per-uid 4"), 1u);
	release(&u);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(admission, the_per_uid_cap_follows_its_flag)
{
	gid_t nog = getgrnam("nogroup") ? getgrnam("nogroup")->gr_gid : 0;
	struct test_daemon d;
	struct holder u;

	start(&d, "16", "--max-clients-per-uid", "7", NULL, NULL);
	hold_as(&d, 65534, nog, (gid_t)-1, 16, &u);
	cr_assert_eq(u.rep.held, 7);
	cr_assert_str_eq(u.rep.why, "uid 65534 has 7 connections (--max-clients-per-uid 7)");
	release(&u);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* Regression: users together (each under its cap) could still take every slot. With
 * --max-clients 8: 2 per uid, the last 4 slots for root and the admin group. */
Test(admission, reserved_slots_are_kept_for_root_when_users_fill_the_rest)
{
	gid_t nog = getgrnam("nogroup") ? getgrnam("nogroup")->gr_gid : 0;
	struct test_daemon d;
	struct holder u[3];

	start(&d, "8", NULL, NULL, NULL, NULL);
	hold_as(&d, 60001, nog, (gid_t)-1, 8, &u[0]);
	hold_as(&d, 60002, nog, (gid_t)-1, 8, &u[1]);
	cr_assert_eq(u[0].rep.held + u[1].rep.held, 4, "users got %d + %d slots", u[0].rep.held,
		     u[1].rep.held);
	hold_as(&d, 60003, nog, (gid_t)-1, 8, &u[2]);
	cr_assert_eq(u[2].rep.held, 0);
	cr_assert_eq(u[2].rep.refused, -EUSERS);
	cr_assert_str_eq(u[2].rep.why, "the last 4 of 8 slots are kept for root and the admin "
				       "group (--reserved-clients 4)");
	root_runs_a_command(&d);
	for (int i = 0; i < 3; i++)
		release(&u[i]);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* The admin group is told from the peer's groups at connect (SO_PEERGROUPS): a member
 * through a supplementary group may take the reserved slots, a non-member may not. */
Test(admission, admin_group_member_may_take_the_reserved_slots)
{
	gid_t nog = getgrnam("nogroup") ? getgrnam("nogroup")->gr_gid : 0;
	struct group *adm = getgrnam("adm");
	gid_t adm_gid = adm ? adm->gr_gid : 0; /* getgrnam's storage is reused by the next call */
	struct test_daemon d;
	struct holder plain, admin;

	if (!adm)
		cr_skip_test("no group 'adm' to make an admin group of");
	start(&d, "8", "--admin-group", "adm", "--max-clients-per-uid", "8");
	/* the last 4 of the 8 slots are reserved */
	hold_as(&d, 60001, nog, (gid_t)-1, 8, &plain);
	cr_assert_eq(plain.rep.held, 4);
	cr_assert_str_eq(plain.rep.why, "the last 4 of 8 slots are kept for root and the admin "
					"group (--reserved-clients 4)");
	hold_as(&d, 60002, nog, adm_gid, 8, &admin);
	cr_assert_eq(admin.rep.held, 4, "the admin-group member got %d reserved slots",
		     admin.rep.held);
	cr_assert_str_eq(admin.rep.why, "all 8 client slots are taken (--max-clients 8)");
	release(&admin);
	release(&plain);
	cr_assert_eq(test_daemon_stop(&d), 0);
}
