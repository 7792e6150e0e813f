/* SPDX-License-Identifier: MIT */
/* The run dir and state dir as root's daemon finds them: a directory another user controls
 * is refused (saying which and why), nothing in the run dir is opened through a symlink,
 * and the state segment is readable by the daemon's user and the socket group only. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/daemon_fixture.h"
#include "tests/run_cmd.h"

#define OTHER_UID 65534 /* nobody */

static void need_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root: the daemon under test is root's, and the test plays "
			     "another user (uid %d)", OTHER_UID);
}

static void make_dir(char *tmpl)
{
	cr_assert(mkdtemp(tmpl), "mkdtemp: %s", strerror(errno));
}

static void remove_tree(const char *path)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	cr_assert_eq(system(cmd), 0);
}

/* Runs vfpoold on run_dir (state dir state_dir) until it exits; *ret_out gets what it
 * printed. A daemon that starts instead of refusing is stopped by timeout (status 124). */
static int daemon_exit_status(const char *run_dir, const char *state_dir, char **ret_out)
{
	return run_capture(ret_out, "timeout 10 %s --simulate 1x4 --run-dir %s --state-dir %s 2>&1",
			   test_build_path("vfpoold"), run_dir, state_dir);
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert(f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

static void assert_text(const char *path, const char *text)
{
	char buf[256] = "";
	FILE *f = fopen(path, "r");
	size_t n;

	cr_assert(f, "%s: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	cr_assert_str_eq(buf, text, "%s was changed", path);
}

/* The README's own example: /tmp/vfpool made by a user before root's daemon ran. The user
 * planted a link at the lock file's name; root's O_CREAT through it would create any file. */
Test(run_dir, owned_by_another_user_is_refused_and_its_links_are_not_followed)
{
	char top[] = "/tmp/vfpool-rd.XXXXXX", run[96], victim[96], link[128], *out;

	need_root();
	make_dir(top);
	snprintf(run, sizeof(run), "%s/run", top);
	snprintf(victim, sizeof(victim), "%s/victim", top);
	snprintf(link, sizeof(link), "%s/vfpoold.lock", run);
	cr_assert_eq(mkdir(run, 0755), 0);
	cr_assert_eq(symlink(victim, link), 0);
	cr_assert_eq(lchown(link, OTHER_UID, OTHER_UID), 0);
	cr_assert_eq(chown(run, OTHER_UID, OTHER_UID), 0);

	cr_assert_eq(daemon_exit_status(run, top, &out), 1, "vfpoold must refuse:\n%s", out);
	cr_assert(strstr(out, "run dir ") && strstr(out, run) &&
		  strstr(out, ": owned by uid 65534, not by the daemon (uid 0)"),
		  "the message names the dir and why:\n%s", out);
	cr_assert(!exists(victim), "root created %s through the user's link", victim);
	free(out);
	remove_tree(top);
}

Test(run_dir, world_writable_is_refused)
{
	char run[] = "/tmp/vfpool-rd.XXXXXX", lock[96], *out;

	make_dir(run);
	snprintf(lock, sizeof(lock), "%s/vfpoold.lock", run);
	cr_assert_eq(chmod(run, 01777), 0);
	cr_assert_eq(daemon_exit_status(run, run, &out), 1, "vfpoold must refuse:\n%s", out);
	cr_assert(strstr(out, run) && strstr(out, "is world-writable (mode 1777)"), "%s", out);
	cr_assert(!exists(lock), "nothing is created in a refused dir");
	free(out);
	remove_tree(run);
}

Test(run_dir, group_writable_state_dir_is_refused)
{
	char run[] = "/tmp/vfpool-rd.XXXXXX", state[] = "/tmp/vfpool-sd.XXXXXX", *out;

	make_dir(run);
	make_dir(state);
	cr_assert_eq(chmod(state, 0770), 0);
	cr_assert_eq(daemon_exit_status(run, state, &out), 1, "vfpoold must refuse:\n%s", out);
	cr_assert(strstr(out, "state dir ") && strstr(out, state) &&
		  strstr(out, "is group-writable (mode 0770)"), "%s", out);
	free(out);
	remove_tree(run);
	remove_tree(state);
}

/* The final component is never followed: a link could be repointed after any check. */
Test(run_dir, symlink_as_the_run_dir_is_refused)
{
	char top[] = "/tmp/vfpool-rd.XXXXXX", real[96], link[96], *out;

	make_dir(top);
	snprintf(real, sizeof(real), "%s/real", top);
	snprintf(link, sizeof(link), "%s/link", top);
	cr_assert_eq(mkdir(real, 0700), 0);
	cr_assert_eq(symlink(real, link), 0);
	cr_assert_eq(daemon_exit_status(link, top, &out), 1, "vfpoold must refuse:\n%s", out);
	cr_assert(strstr(out, link) && strstr(out, "is a symlink (not followed)"), "%s", out);
	free(out);
	remove_tree(top);
}

/* systemd's rule: a directory owned by someone other than root holds only its owner's
 * entries, or that owner could swap root's directory for one of theirs. */
Test(run_dir, root_dir_inside_another_users_dir_is_refused)
{
	char top[] = "/tmp/vfpool-rd.XXXXXX", mid[96], run[128], *out;

	need_root();
	make_dir(top);
	snprintf(mid, sizeof(mid), "%s/users", top);
	snprintf(run, sizeof(run), "%s/run", mid);
	cr_assert_eq(mkdir(mid, 0755), 0);
	cr_assert_eq(mkdir(run, 0700), 0);
	cr_assert_eq(chown(mid, OTHER_UID, OTHER_UID), 0);
	cr_assert_eq(daemon_exit_status(run, top, &out), 1, "vfpoold must refuse:\n%s", out);
	cr_assert(strstr(out, "unsafe path") && strstr(out, mid) &&
		  strstr(out, "owned by uid 65534 and holds run owned by uid 0"), "%s", out);
	free(out);
	remove_tree(top);
}

/* In its own directory too, the daemon opens nothing through a link: the lock file's name
 * as a dangling link to a root-owned path is refused, and nothing is created there. */
Test(run_dir, symlink_at_the_lock_file_is_not_followed)
{
	char run[] = "/tmp/vfpool-rd.XXXXXX", victim_dir[] = "/tmp/vfpool-victim.XXXXXX";
	char victim[96], link[96], *out;

	make_dir(run);
	make_dir(victim_dir); /* a root-owned directory: the target would be root's new file */
	snprintf(victim, sizeof(victim), "%s/created", victim_dir);
	snprintf(link, sizeof(link), "%s/vfpoold.lock", run);
	cr_assert_eq(symlink(victim, link), 0);
	cr_assert_eq(daemon_exit_status(run, run, &out), 1, "vfpoold must refuse:\n%s", out);
	cr_assert(strstr(out, "vfpoold.lock") && strstr(out, "a symlink, not followed"), "%s", out);
	cr_assert(!exists(victim), "vfpoold created %s through the link", victim);
	free(out);
	remove_tree(run);
	remove_tree(victim_dir);
}

/* The state segment's names: its temp file and "state" itself, planted as links to a
 * root-owned file, are replaced, never written through. */
Test(run_dir, symlinks_at_the_state_names_are_replaced_not_written_through)
{
	char keep[] = "/tmp/vfpool-keep.XXXXXX", a[96], b[96], link[128];
	struct test_daemon d = { 0 };
	struct stat st;

	make_dir(keep);
	snprintf(a, sizeof(a), "%s/a", keep);
	snprintf(b, sizeof(b), "%s/b", keep);
	write_text(a, "precious a\n");
	write_text(b, "precious b\n");
	snprintf(d.run_dir, sizeof(d.run_dir), "/tmp/vfpool-test.XXXXXX");
	make_dir(d.run_dir);
	snprintf(link, sizeof(link), "%s/state", d.run_dir);
	cr_assert_eq(symlink(a, link), 0);
	snprintf(link, sizeof(link), "%s/.state.tmp", d.run_dir);
	cr_assert_eq(symlink(b, link), 0);

	test_daemon_restart(&d, "1x4", NULL); /* in the prepared run dir */
	assert_text(a, "precious a\n");
	assert_text(b, "precious b\n");
	snprintf(link, sizeof(link), "%s/state", d.run_dir);
	cr_assert_eq(lstat(link, &st), 0);
	cr_assert(S_ISREG(st.st_mode), "state is the daemon's own file now");
	cr_assert_eq(test_daemon_stop(&d), 0);
	remove_tree(keep);
}

/* ---- who may read the state segment -------------------------------------------------- */

static gid_t group_id(const char *name)
{
	struct group *g = getgrnam(name);

	if (!g)
		cr_skip_test("no group '%s' to serve as the socket group", name);
	return g->gr_gid;
}

/* A child with uid OTHER_UID and only group gid: 0 when it could open path for reading,
 * else the errno. */
static int open_as(const char *path, gid_t gid)
{
	pid_t pid = fork();
	int status;

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int fd;

		if (setgroups(0, NULL) || setgid(gid) || setuid(OTHER_UID))
			_exit(200);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		_exit(fd >= 0 ? 0 : errno);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	cr_assert_neq(WEXITSTATUS(status), 200, "could not drop to uid %d", OTHER_UID);
	return WEXITSTATUS(status);
}

Test(run_dir, state_segment_is_0640_in_the_socket_group_and_closed_to_others)
{
	struct test_daemon d;
	gid_t sock_gid;
	char path[96];
	struct stat st;

	need_root();
	sock_gid = group_id("nogroup");
	test_daemon_start(&d, "1x4", "--socket-group", "nogroup", NULL);
	snprintf(path, sizeof(path), "%s/state", d.run_dir);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0640, "mode %04o", st.st_mode & 07777);
	cr_assert_eq(st.st_gid, sock_gid);
	cr_assert_eq(st.st_uid, 0u);
	/* as if the run dir were an old world-searchable /run/vfpool: the file's own mode is
	 * what keeps the leases private */
	cr_assert_eq(chmod(d.run_dir, 0755), 0);
	cr_assert_eq(open_as(path, sock_gid + 1), EACCES, "a user outside the group read it");
	cr_assert_eq(open_as(path, sock_gid), 0, "a socket-group member must read it");
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(run_dir, state_segment_without_a_socket_group_is_0600)
{
	struct test_daemon d;
	char path[96];
	struct stat st;

	test_daemon_start(&d, "1x4", NULL);
	snprintf(path, sizeof(path), "%s/state", d.run_dir);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600, "mode %04o", st.st_mode & 07777);
	cr_assert_eq(st.st_uid, geteuid());
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* What RuntimeDirectoryMode=0750 with Group=vfpool gives: members reach the socket and the
 * segment, nobody else looks in. The daemon makes the same when it creates the dir. */
Test(run_dir, missing_run_dir_is_created_0750_in_the_socket_group)
{
	char top[] = "/tmp/vfpool-rd.XXXXXX", run[96];
	struct test_daemon d = { 0 };
	gid_t sock_gid;
	struct stat st;

	need_root();
	sock_gid = group_id("nogroup");
	make_dir(top);
	snprintf(run, sizeof(run), "%s/run", top);
	cr_assert_lt(strlen(run), sizeof(d.run_dir));
	snprintf(d.run_dir, sizeof(d.run_dir), "%s", run);
	test_daemon_restart(&d, "1x4", "--socket-group", "nogroup", NULL);
	cr_assert_eq(stat(run, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0750, "mode %04o", st.st_mode & 07777);
	cr_assert_eq(st.st_gid, sock_gid);
	cr_assert_eq(test_daemon_stop(&d), 0);
	remove_tree(top);
}
