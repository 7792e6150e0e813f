/* SPDX-License-Identifier: MIT */
/* The lease journal through the real daemon: a damaged journal costs only the damaged
 * records and says so, generations never come back, leases keep their owner and profile
 * across a restart, and a full file system refuses new leases instead of killing the
 * daemon. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/daemon_fixture.h"
#include "tests/prom_parse.h"
#include "tests/run_cmd.h"
#include "vfpool/vfpool.h"

static int alloc(struct vfpool *h, const char *vm, const char *vnic, struct vfpool_lease *l,
		 char *why, size_t why_len)
{
	struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req, .vm_id = vm, .vnic_id = vnic,
						  .network = "red");

	return vfpool_alloc(h, &req, l, why, why_len);
}

static void alloc_ok(struct vfpool *h, const char *vm, const char *vnic, struct vfpool_lease *l)
{
	char why[160] = "";
	int r = alloc(h, vm, vnic, l, why, sizeof(why));

	cr_assert_eq(r, 0, "alloc %s/%s: %s %s", vm, vnic, vfpool_strerror(r), why);
}

/* A release through the ring, with the daemon's reason */
static int release_why(struct vfpool *h, const char *vm, const char *vnic, uint64_t gen,
		       char *why, size_t why_len)
{
	struct vfpool_completion c = VFPOOL_OPTS(vfpool_completion);
	int n;

	if (vfpool_submit_release(h, vm, vnic, gen, 1) < 0 || vfpool_flush(h) < 0)
		return -EIO;
	n = vfpool_reap(h, &c, 1, 1, 10000);
	if (n != 1)
		return n < 0 ? n : -ETIMEDOUT;
	snprintf(why, why_len, "%s", c.why);
	return c.res;
}

static bool leased_in_snapshot(const struct test_daemon *d, const char *vm, const char *vnic,
			       unsigned *ret_total)
{
	struct vfpool_snapshot *s;
	bool found = false;
	unsigned n = 0;

	cr_assert_eq(vfpool_snapshot_take(d->run_dir, &s), 0);
	for (unsigned i = 0; i < vfpool_snapshot_vf_count(s); i++) {
		struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);

		cr_assert_eq(vfpool_snapshot_vf(s, i, &v), 0);
		if (v.status != VFPOOL_VF_STATUS_LEASED)
			continue;
		n++;
		found |= strcmp(v.vm_id, vm) == 0 && strcmp(v.vnic_id, vnic) == 0;
	}
	vfpool_snapshot_free(s);
	if (ret_total)
		*ret_total = n;
	return found;
}

static void crash(struct test_daemon *d)
{
	int status;

	kill(d->pid, SIGKILL);
	cr_assert_eq(waitpid(d->pid, &status, 0), d->pid);
	d->pid = 0;
}

/* ---- damage ---------------------------------------------------------------------------- */

/* Flips a bit in the journal record that names vnic (one of its MAC bytes: the names stay
 * readable, the record fails its CRC). */
static void damage_record_of(const struct test_daemon *d, const char *vnic)
{
	char path[128], needle[40];
	size_t len, nlen;
	uint8_t *buf, *at = NULL;
	int fd;

	snprintf(path, sizeof(path), "%s/leases.journal", d->run_dir);
	buf = (uint8_t *)read_whole_file(path);
	{
		struct stat st;

		cr_assert_eq(stat(path, &st), 0);
		len = (size_t)st.st_size;
	}
	/* the vNIC field: its name and the NUL after it, preceded by the VM's padding */
	nlen = (size_t)snprintf(needle, sizeof(needle), "%s", vnic) + 1;
	for (size_t i = 1; i + nlen <= len && !at; i++)
		if (memcmp(buf + i, needle, nlen) == 0 && buf[i - 1] == 0)
			at = buf + i;
	cr_assert(at, "no record names %s", vnic);
	/* version 2: the vNIC is 112 bytes into the payload, the MAC 16 (record header 12) */
	fd = open(path, O_RDWR);
	cr_assert(fd >= 0);
	{
		off_t mac = (off_t)(at - buf) - 112 + 16 + 3;
		uint8_t b;

		cr_assert_eq(pread(fd, &b, 1, mac), 1);
		b ^= 0x10;
		cr_assert_eq(pwrite(fd, &b, 1, mac), 1);
	}
	close(fd);
	free(buf);
}

static unsigned kept_aside(const char *run_dir)
{
	DIR *dir = opendir(run_dir);
	struct dirent *e;
	unsigned n = 0;

	cr_assert(dir);
	while ((e = readdir(dir)))
		n += strncmp(e->d_name, "leases.journal.corrupt.", 23) == 0;
	closedir(dir);
	return n;
}

/* The defect: a bit flip in record 3 of 20 dropped 18 acknowledged leases, reported
 * lost=0, and the rewrite destroyed the evidence. */
Test(journal_e2e, flipped_bit_costs_one_lease_which_is_named_counted_and_kept_aside)
{
	struct test_daemon d;
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	struct prom_doc doc;
	char vnic[16], log_path[160], *log, *out, why[256] = "";
	unsigned total;

	test_daemon_start(&d, "2x16", NULL);
	struct vfpool *h = connect_ok(&d);
	for (int i = 0; i < 20; i++) {
		snprintf(vnic, sizeof(vnic), "nic%d", i);
		alloc_ok(h, "vm1", vnic, &l);
	}
	vfpool_close(h);
	crash(&d); /* test_daemon_stop would remove the run dir */
	damage_record_of(&d, "nic2");
	test_daemon_restart(&d, "2x16", NULL);

	cr_assert_not(leased_in_snapshot(&d, "vm1", "nic2", &total), "the damaged lease is gone");
	cr_assert_eq(total, 19u, "every lease but the damaged one is back");
	for (int i = 0; i < 20; i++) {
		snprintf(vnic, sizeof(vnic), "nic%d", i);
		cr_assert(i == 2 || leased_in_snapshot(&d, "vm1", vnic, NULL), "vm1/%s lost", vnic);
	}
	snprintf(log_path, sizeof(log_path), "%s", d.log_path);
	log = read_whole_file(log_path);
	cr_assert(strstr(log, "event=lease_lost") && strstr(log, "vm=vm1 vnic=nic2"),
		  "the lost lease is named in the log:\n%s", log);
	cr_assert(strstr(log, "event=journal_damaged") && strstr(log, "records_lost=1"),
		  "%s", log);
	free(log);
	cr_assert_eq(kept_aside(d.run_dir), 1u, "the damaged journal is kept");
	cr_assert_eq(run_capture(&out, "%s --run-dir %s metrics", test_build_path("vfpoolctl"),
				 d.run_dir), 0);
	cr_assert_eq(prom_parse(out, &doc, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(prom_sum(&doc, "vfpool_journal_records_lost_total", NULL), 1.0, "%s", out);
	prom_free(&doc);
	free(out);
	/* and the rewritten journal is whole again: a second restart finds nothing damaged */
	crash(&d);
	test_daemon_restart(&d, "2x16", NULL);
	leased_in_snapshot(&d, "vm1", "nic0", &total);
	cr_assert_eq(total, 19u);
	cr_assert_eq(kept_aside(d.run_dir), 1u);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* ---- generations --------------------------------------------------------------------- */

/* The defect: after a restart the next generation was the highest live one + 1, so a
 * released lease's generation came back and a stale release ended the new lease. */
Test(journal_e2e, released_generation_never_comes_back_after_a_restart)
{
	struct test_daemon d;
	struct vfpool_lease first = VFPOOL_OPTS(vfpool_lease), second = first;

	test_daemon_start(&d, "1x4", NULL);
	struct vfpool *h = connect_ok(&d);
	alloc_ok(h, "vm1", "nic0", &first);
	cr_assert_eq(vfpool_release(h, "vm1", "nic0", first.generation, NULL, 0), 0);
	vfpool_close(h);
	crash(&d);
	test_daemon_restart(&d, "1x4", NULL);
	h = connect_ok(&d);
	alloc_ok(h, "vm1", "nic0", &second);
	cr_assert_neq(second.generation, first.generation, "generation %llu handed out twice",
		      (unsigned long long)first.generation);
	cr_assert_gt(second.generation, first.generation);
	cr_assert_eq(vfpool_release(h, "vm1", "nic0", first.generation, NULL, 0), -ESTALE,
		     "a stale release must not end the new lease");
	cr_assert(leased_in_snapshot(&d, "vm1", "nic0", NULL));
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* ---- who may release --------------------------------------------------------------- */

/* In a child as uid (gid 0 keeps the 0660 socket reachable): 0 when what was asked
 * returned want (and, with a reason, the reason contains it), else a step number. */
static int as_uid(const struct test_daemon *d, uid_t uid, bool release, int want,
		  const char *reason)
{
	int status;
	pid_t pid = fork();

	cr_assert(pid >= 0);
	if (pid == 0) {
		struct vfpool *h;
		struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
		char why[160] = "";
		int r;

		if (setgroups(0, NULL) || setgid(0) || setuid(uid))
			_exit(100);
		if (vfpool_connect(d->run_dir, NULL, &h))
			_exit(101);
		r = release ? release_why(h, "vm-a", "nic0", 0, why, sizeof(why))
			    : alloc(h, "vm-a", "nic0", &l, why, sizeof(why));
		vfpool_close(h);
		if (r != want)
			_exit(102);
		_exit(reason && !strstr(why, reason) ? 103 : 0);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

Test(journal_e2e, only_the_owner_releases_its_lease_through_the_ring_also_after_a_restart)
{
	struct test_daemon d;

	if (geteuid() != 0)
		cr_skip_test("needs root to run clients as two other uids");
	test_daemon_start(&d, "1x8", NULL);
	cr_assert_eq(chmod(d.run_dir, 0755), 0);
	cr_assert_eq(as_uid(&d, 65534, false, 0, NULL), 0, "uid 65534 allocates vm-a/nic0");
	cr_assert_eq(as_uid(&d, 65533, true, -EPERM, "vm-a/nic0"), 0,
		     "another uid's release must be EPERM naming the VM (102: not EPERM)");
	cr_assert_eq(as_uid(&d, 65533, false, -EPERM, "vm-a/nic0"), 0,
		     "nor may it take the lease by asking for it again");
	cr_assert(leased_in_snapshot(&d, "vm-a", "nic0", NULL));
	/* the owner survives a restart: it is journaled with the lease */
	crash(&d);
	test_daemon_restart(&d, "1x8", NULL);
	cr_assert_eq(as_uid(&d, 65533, true, -EPERM, "vm-a/nic0"), 0, "after the restart");
	cr_assert(leased_in_snapshot(&d, "vm-a", "nic0", NULL));
	cr_assert_eq(as_uid(&d, 65534, true, 0, NULL), 0, "its owner releases it");
	cr_assert_not(leased_in_snapshot(&d, "vm-a", "nic0", NULL));
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* ---- the profile a lease was made through ------------------------------------------- */

static int command(struct vfpool *h, char **out, int argc, const char *const *argv)
{
	*out = NULL;
	return vfpool_command(h, argc, argv, out);
}

Test(journal_e2e, profile_in_use_stays_undeletable_after_a_restart)
{
	struct test_daemon d;
	struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req, .vm_id = "vm1", .vnic_id = "n0",
						  .profile = "fast");
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	char *out;

	test_daemon_start(&d, "1x8", NULL);
	struct vfpool *h = connect_ok(&d);
	cr_assert_eq(command(h, &out, 3, (const char *[]){ "network", "add", "red" }), 0);
	free(out);
	cr_assert_eq(command(h, &out, 7,
			     (const char *[]){ "profile", "add", "fast", "--network", "red",
					       "--passthrough", "mandatory" }), 0);
	free(out);
	cr_assert_eq(vfpool_alloc(h, &req, &l, NULL, 0), 0);
	vfpool_close(h);
	crash(&d);
	test_daemon_restart(&d, "1x8", NULL);
	h = connect_ok(&d);
	cr_assert_eq(command(h, &out, 3, (const char *[]){ "profile", "del", "fast" }), -EBUSY,
		     "a profile a lease was made through cannot go: %s", out ? out : "");
	cr_assert(out && strstr(out, "profile fast: 1 lease"), "%s", out ? out : "");
	free(out);
	cr_assert_eq(vfpool_release(h, "vm1", "n0", 0, NULL, 0), 0);
	cr_assert_eq(command(h, &out, 3, (const char *[]){ "profile", "del", "fast" }), 0, "%s",
		     out ? out : "");
	free(out);
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* issue 14: the profile a lease was made through is journaled with it, so after a restart
 * (a crash, then a clean stop: the journal compacted) profile set and profile del on a
 * profile in use are refused exactly as before, and profile list counts its leases. The
 * leases come from a VM request (a chain) and a single alloc. */
static void profile_in_use_as_before(struct vfpool *h, const char *when)
{
	char *out;

	cr_assert_eq(command(h, &out, 2, (const char *[]){ "profile", "list" }), 0);
	cr_assert(out && strstr(out, "fast network=red passthrough=mandatory") &&
		  strstr(out, " leases=3\n"), "%s: %s", when, out ? out : "");
	free(out);
	cr_assert_eq(command(h, &out, 5, (const char *[]){ "profile", "set", "fast",
							   "--passthrough", "preferred" }),
		     -EBUSY, "%s", out ? out : "");
	cr_assert_str_eq(out, "profile fast: passthrough mode cannot change while 3 leases use it");
	free(out);
	cr_assert_eq(command(h, &out, 3, (const char *[]){ "profile", "del", "fast" }), -EBUSY);
	cr_assert_str_eq(out, "profile fast: 3 leases use it");
	free(out);
}

/* A clean shutdown (SIGTERM) that leaves the run directory, as a restarted service finds it */
static void stop_keeping_run_dir(struct test_daemon *d)
{
	int status;

	kill(d->pid, SIGTERM);
	cr_assert_eq(waitpid(d->pid, &status, 0), d->pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
	d->pid = 0;
}

Test(journal_e2e, profile_protection_and_lease_count_survive_restarts)
{
	struct test_daemon d;
	struct vfpool_vnic_req v[2] = {
		VFPOOL_OPTS(vfpool_vnic_req, .vnic_id = "n0", .profile = "fast", .numa_node = -1),
		VFPOOL_OPTS(vfpool_vnic_req, .vnic_id = "n1", .profile = "fast", .numa_node = -1),
	};
	struct vfpool_lease l[2] = { [0 ... 1] = VFPOOL_OPTS(vfpool_lease) };
	struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req, .vm_id = "vm2", .vnic_id = "n0",
						  .profile = "fast");
	char why[160] = "", *out;
	struct vfpool *h;

	test_daemon_start(&d, "2x4", NULL);
	h = connect_ok(&d);
	cr_assert_eq(command(h, &out, 3, (const char *[]){ "network", "add", "red" }), 0);
	free(out);
	cr_assert_eq(command(h, &out, 7,
			     (const char *[]){ "profile", "add", "fast", "--network", "red",
					       "--passthrough", "mandatory" }), 0);
	free(out);
	cr_assert_eq(vfpool_alloc_vm(h, "vm1", v, 2, l, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(vfpool_alloc(h, &req, l, why, sizeof(why)), 0, "%s", why);
	profile_in_use_as_before(h, "before");
	vfpool_close(h);

	crash(&d);
	test_daemon_restart(&d, "2x4", NULL);
	h = connect_ok(&d);
	profile_in_use_as_before(h, "after a crash");
	vfpool_close(h);

	stop_keeping_run_dir(&d);
	test_daemon_restart(&d, "2x4", NULL);
	h = connect_ok(&d);
	profile_in_use_as_before(h, "after a stop");
	cr_assert_eq(vfpool_release(h, "vm1", "n0", 0, NULL, 0), 0);
	cr_assert_eq(vfpool_release(h, "vm1", "n1", 0, NULL, 0), 0);
	cr_assert_eq(vfpool_release(h, "vm2", "n0", 0, NULL, 0), 0);
	cr_assert_eq(command(h, &out, 5, (const char *[]){ "profile", "set", "fast",
							   "--passthrough", "preferred" }),
		     0, "%s", out ? out : "");
	free(out);
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* ---- full file systems ------------------------------------------------------------- */

static char mnt[48];

static void unmount_run_dir(void)
{
	if (!mnt[0])
		return;
	umount2(mnt, MNT_DETACH);
	rmdir(mnt);
}

/* Writes a file until the file system is full */
static void fill(const char *dir, char *ret_path, size_t n)
{
	static uint8_t block[65536];
	int fd;

	snprintf(ret_path, n, "%s/filler", dir);
	fd = open(ret_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert(fd >= 0);
	while (write(fd, block, sizeof(block)) > 0)
		;
	while (write(fd, block, 512) > 0)
		;
	cr_assert_eq(errno, ENOSPC);
	close(fd);
}

/* Allocates and releases vm1/churn until an allocation fails; returns its result */
static int churn_until_refused(struct vfpool *h, char *why, size_t why_len, unsigned *ret_n)
{
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	unsigned n;
	int r = 0;

	for (n = 0; n < 200000; n++) {
		r = alloc(h, "vm1", "churn", &l, why, why_len);
		if (r)
			break;
		cr_assert_eq(vfpool_release(h, "vm1", "churn", l.generation, NULL, 0), 0);
	}
	*ret_n = n;
	return r;
}

/* The defect: the mapped journal was grown with ftruncate on a full tmpfs; the first store
 * into it was a SIGBUS, logged nowhere. */
Test(journal_e2e, full_tmpfs_refuses_new_leases_and_the_daemon_keeps_serving,
     .fini = unmount_run_dir)
{
	struct test_daemon d;
	struct vfpool_lease held = VFPOOL_OPTS(vfpool_lease), l = held;
	char filler[96], why[160] = "";
	unsigned n, total;
	int r;

	if (geteuid() != 0)
		cr_skip_test("needs root to mount a small tmpfs as the run dir");
	snprintf(mnt, sizeof(mnt), "/tmp/vfpool-full.XXXXXX");
	cr_assert(mkdtemp(mnt));
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=4m,mode=0700") < 0) {
		rmdir(mnt);
		mnt[0] = '\0';
		cr_skip_test("cannot mount a tmpfs: %s", strerror(errno));
	}
	memset(&d, 0, sizeof(d));
	snprintf(d.run_dir, sizeof(d.run_dir), "%s", mnt);
	test_daemon_restart(&d, "1x8", NULL); /* in this run dir, not a new one */
	struct vfpool *h = connect_ok(&d);
	alloc_ok(h, "vm1", "held", &held);
	fill(mnt, filler, sizeof(filler));

	r = churn_until_refused(h, why, sizeof(why), &n);
	cr_assert(test_daemon_alive(&d), "the daemon died on a full file system");
	cr_assert_eq(r, -EIO, "after %u leases: %s %s", n, vfpool_strerror(r), why);
	cr_assert(strstr(why, "leases.journal") && strstr(why, "No space left on device"),
		  "the refusal names the journal and the reason: %s", why);
	cr_assert_gt(n, 0u);
	/* reads and releases go on */
	cr_assert_not(leased_in_snapshot(&d, "vm1", "churn", &total), "a refused lease was made");
	cr_assert_eq(total, 1u);
	cr_assert_eq(vfpool_release(h, "vm1", "held", held.generation, NULL, 0), 0,
		     "a release needs no new space");
	cr_assert_eq(alloc(h, "vm1", "again", &l, why, sizeof(why)), -EIO, "still full");
	/* space again: leases again */
	cr_assert_eq(unlink(filler), 0);
	alloc_ok(h, "vm1", "again", &l);
	vfpool_close(h);
	crash(&d);
	test_daemon_restart(&d, "1x8", NULL);
	cr_assert(leased_in_snapshot(&d, "vm1", "again", &total));
	cr_assert_eq(total, 1u, "the journal agrees: only vm1/again");
	crash(&d); /* the mount goes in .fini; test_daemon_stop would remove the run dir */
}

/* A write that fails although its space was reserved (here a file size limit, which
 * fallocate(FALLOC_FL_KEEP_SIZE) does not check): the lease it carried is refused and
 * forgotten, the daemon goes on, and once the file can grow again leases are made again. */
Test(journal_e2e, failed_journal_write_refuses_its_lease_and_the_daemon_goes_on)
{
	struct test_daemon d;
	struct rlimit lim, old, none = { RLIM_INFINITY, RLIM_INFINITY };
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	char why[160] = "";
	unsigned n, total;
	int r;

	signal(SIGXFSZ, SIG_IGN);
	cr_assert_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 96 * 1024; /* the state segment (36 KiB) fits, the journal runs into it */
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	test_daemon_start(&d, "1x8", NULL); /* the daemon inherits the limit */
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	/* a small ring: its memfd is a file under the limit too */
	struct vfpool_opts o = { .sz = sizeof(o), .ring_entries = 8 };
	struct vfpool *h = NULL;
	cr_assert_eq(vfpool_connect(d.run_dir, &o, &h), 0);

	r = churn_until_refused(h, why, sizeof(why), &n);
	cr_assert(test_daemon_alive(&d), "the daemon stopped on a failed journal write");
	cr_assert_eq(r, -EIO, "after %u leases: %s %s", n, vfpool_strerror(r), why);
	cr_assert(strstr(why, "leases.journal") && strstr(why, "File too large"), "%s", why);
	cr_assert_not(leased_in_snapshot(&d, "vm1", "churn", &total),
		      "the refused lease was forgotten");
	cr_assert_eq(total, 0u);
	/* the file may grow again: the next lease is made (after the retry pause) */
	cr_assert_eq(prlimit(d.pid, RLIMIT_FSIZE, &none, NULL), 0);
	alloc_ok(h, "vm1", "after", &l);
	vfpool_close(h);
	crash(&d);
	test_daemon_restart(&d, "1x8", NULL);
	cr_assert(leased_in_snapshot(&d, "vm1", "after", &total));
	cr_assert_eq(total, 1u, "the refused lease did not come back from the journal");
	cr_assert_eq(test_daemon_stop(&d), 0);
}
