/* SPDX-License-Identifier: MIT */
/*
 * libvfpool's ABI rules, as a binary built against another header meets them: every struct
 * passed by pointer is read and written by the size its caller was built with (a newer
 * caller's zero tail is fine, a set one is refused; an older library zeroes what it does
 * not know), arrays are strided by that size, zero means "no preference", and the run
 * directory and the errors read the same as vfpoolctl's.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/daemon_fixture.h"
#include "tests/run_cmd.h"
#include "vfpool/vfpool.h"

/* What a caller built against a later header passes: the same struct with a field more. */
struct newer_req {
	struct vfpool_alloc_req base;
	uint64_t future;
};
struct newer_lease {
	struct vfpool_lease base;
	uint64_t future;
};
struct newer_completion {
	struct vfpool_completion base;
	uint64_t future;
};
struct newer_vnic {
	struct vfpool_vnic_req base;
	uint64_t future;
};
struct newer_pf_info {
	struct vfpool_pf_info base;
	uint64_t future;
};
struct newer_liveness {
	struct vfpool_liveness base;
	uint64_t future;
};

static unsigned leases_of(const struct test_daemon *d, const char *vm)
{
	struct vfpool_snapshot *s;
	unsigned n = 0;

	cr_assert_eq(vfpool_snapshot_take(d->run_dir, &s), 0);
	for (unsigned i = 0; i < vfpool_snapshot_vf_count(s); i++) {
		struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);

		cr_assert_eq(vfpool_snapshot_vf(s, i, &v), 0);
		n += v.status == VFPOOL_VF_STATUS_LEASED && strcmp(v.vm_id, vm) == 0;
	}
	vfpool_snapshot_free(s);
	return n;
}

static struct newer_req newer_req(const char *vm, const char *vnic, uint64_t future)
{
	struct newer_req r;

	memset(&r, 0, sizeof(r));
	r.base = VFPOOL_OPTS(vfpool_alloc_req, .vm_id = vm, .vnic_id = vnic, .network = "red");
	r.base.sz = sizeof(r);
	r.future = future;
	return r;
}

Test(abi, a_newer_callers_request_with_nothing_set_past_the_library_is_served)
{
	struct test_daemon d;
	struct newer_req req = newer_req("vm1", "nic0", 0);
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	struct vfpool *h;

	test_daemon_start(&d, "1x4", NULL);
	h = connect_ok(&d);
	cr_assert_eq(vfpool_alloc(h, &req.base, &l, NULL, 0), 0);
	cr_assert_eq(leases_of(&d, "vm1"), 1u);
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(abi, a_newer_callers_request_with_a_field_set_past_the_library_is_refused_e2big)
{
	struct test_daemon d;
	struct newer_req req = newer_req("vm1", "nic0", 1);
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	struct vfpool *h;

	test_daemon_start(&d, "1x4", NULL);
	h = connect_ok(&d);
	cr_assert_eq(vfpool_alloc(h, &req.base, &l, NULL, 0), -E2BIG);
	cr_assert_eq(vfpool_submit_alloc(h, &req.base, 1), -E2BIG);
	cr_assert_eq(leases_of(&d, "vm1"), 0u, "a refused request leased nothing");
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(abi, sizes_below_the_first_release_or_past_a_page_are_refused)
{
	struct test_daemon d;
	struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req, .vm_id = "vm1",
						  .vnic_id = "nic0", .network = "red");
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	struct vfpool_opts o = VFPOOL_OPTS(vfpool_opts);
	struct vfpool *h;

	test_daemon_start(&d, "1x4", NULL);
	h = connect_ok(&d);
	req.sz = 0; /* a caller who built the struct by hand and forgot sz */
	cr_assert_eq(vfpool_alloc(h, &req, &l, NULL, 0), -EINVAL);
	req.sz = sizeof(req) - sizeof(unsigned);
	cr_assert_eq(vfpool_alloc(h, &req, &l, NULL, 0), -EINVAL);
	req.sz = sizeof(req);
	l.sz = 0;
	cr_assert_eq(vfpool_alloc(h, &req, &l, NULL, 0), -EINVAL, "an output without its size");
	cr_assert_eq(leases_of(&d, "vm1"), 0u);
	o.sz = 1u << 20;
	cr_assert_eq(vfpool_connect(d.run_dir, &o, &h), -E2BIG, "1 MiB is garbage, not a struct");
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(abi, an_output_larger_than_the_library_knows_gets_its_tail_zeroed_and_keeps_its_size)
{
	struct test_daemon d;
	struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req, .vm_id = "vm1",
						  .vnic_id = "nic0", .network = "red");
	struct newer_lease l;
	struct newer_pf_info p;
	struct vfpool_snapshot *s;
	struct vfpool *h;

	memset(&l, 0xa5, sizeof(l));
	l.base.sz = sizeof(l);
	memset(&p, 0xa5, sizeof(p));
	p.base.sz = sizeof(p);
	test_daemon_start(&d, "1x4", NULL);
	h = connect_ok(&d);
	cr_assert_eq(vfpool_alloc(h, &req, &l.base, NULL, 0), 0);
	cr_assert_eq(l.base.sz, sizeof(l));
	cr_assert_eq(l.future, 0u, "a field this library does not know reads as zero");
	cr_assert_str_eq(l.base.pci_addr, "0001:00:00.0");
	cr_assert_eq(vfpool_snapshot_take(d.run_dir, &s), 0);
	cr_assert_eq(vfpool_snapshot_pf(s, 0, &p.base), 0);
	cr_assert_eq(p.base.sz, sizeof(p));
	cr_assert_eq(p.future, 0u);
	cr_assert_eq(p.base.leased, 1u);
	vfpool_snapshot_free(s);
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* The liveness of a snapshot's daemon (issue 12) is an output like the others. */
Test(abi, liveness_is_written_by_the_callers_size_like_every_output)
{
	struct vfpool_liveness by_hand = { .running = 7 };
	struct newer_liveness l;
	struct vfpool_snapshot *s;
	struct test_daemon d;

	test_daemon_start(&d, "1x4", NULL);
	cr_assert_eq(vfpool_snapshot_take(d.run_dir, &s), 0);
	cr_assert_eq(vfpool_snapshot_liveness(s, &by_hand), -EINVAL, "sz 0: built by hand");
	cr_assert_eq(by_hand.running, 7, "nothing written on failure");
	by_hand.sz = offsetof(struct vfpool_liveness, why);
	cr_assert_eq(vfpool_snapshot_liveness(s, &by_hand), -EINVAL, "below the first release");
	memset(&l, 0xa5, sizeof(l));
	l.base.sz = sizeof(l);
	cr_assert_eq(vfpool_snapshot_liveness(s, &l.base), 0);
	cr_assert_eq(l.base.sz, sizeof(l));
	cr_assert_eq(l.future, 0u, "a field this library does not know reads as zero");
	cr_assert_eq(l.base.running, 1);
	cr_assert_eq(l.base.pid, d.pid);
	cr_assert_str_empty(l.base.why);
	vfpool_snapshot_free(s);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(abi, completions_are_written_at_the_callers_stride)
{
	struct test_daemon d;
	struct newer_completion c[3];
	struct vfpool *h;
	int got = 0;

	memset(c, 0xa5, sizeof(c));
	c[0].base.sz = sizeof(c[0]);
	test_daemon_start(&d, "1x4", NULL);
	h = connect_ok(&d);
	for (unsigned i = 0; i < 3; i++) {
		char vnic[8];
		struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req, .vm_id = "vm1",
							  .vnic_id = vnic, .network = "red");

		snprintf(vnic, sizeof(vnic), "nic%u", i);
		cr_assert_eq(vfpool_submit_alloc(h, &req, 100 + i), 0);
	}
	cr_assert_eq(vfpool_flush(h), 3);
	while (got < 3) {
		/* the stride is always the first element's size: set it where the reap starts */
		c[got].base.sz = sizeof(c[0]);
		int r = vfpool_reap(h, &c[got].base, 3 - (unsigned)got, 1, 5000);

		cr_assert_gt(r, 0, "reap: %d", r);
		got += r;
	}
	for (unsigned i = 0; i < 3; i++) {
		cr_assert_eq(c[i].base.sz, sizeof(c[0]));
		cr_assert_eq(c[i].base.res, 0, "%s", c[i].base.why);
		cr_assert_geq(c[i].base.user_data, 100u);
		cr_assert_lt(c[i].base.user_data, 103u);
		cr_assert_eq(c[i].future, 0u, "completion %u: the tail past the library is zero", i);
		cr_assert_eq(c[i].base.lease.sz,
			     sizeof(c[0]) - offsetof(struct vfpool_completion, lease));
		cr_assert_neq(c[i].base.lease.pci_addr[0], '\0');
	}
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(abi, alloc_vm_reads_vnics_and_writes_leases_by_their_stride)
{
	struct test_daemon d;
	struct newer_vnic v[2];
	struct newer_lease l[2];
	char why[160] = "";
	struct vfpool *h;

	memset(v, 0, sizeof(v));
	memset(l, 0xa5, sizeof(l));
	for (int i = 0; i < 2; i++) {
		v[i].base = VFPOOL_OPTS(vfpool_vnic_req, .vnic_id = i ? "nic1" : "nic0",
					.network = "red");
		v[i].base.sz = sizeof(v[0]);
	}
	l[0].base.sz = sizeof(l[0]);
	test_daemon_start(&d, "1x4", NULL);
	h = connect_ok(&d);
	cr_assert_eq(vfpool_alloc_vm(h, "vm1", &v[0].base, 2, &l[0].base, why, sizeof(why)), 0,
		     "%s", why);
	cr_assert_str_eq(l[0].base.pci_addr, "0001:00:00.0");
	cr_assert_str_eq(l[1].base.pci_addr, "0001:00:00.1", "the second lease at the stride");
	cr_assert_eq(l[1].future, 0u);
	cr_assert_eq(leases_of(&d, "vm1"), 2u);
	/* a vNIC whose size differs from the first one's: the array is not what it claims */
	v[1].base.sz = sizeof(struct vfpool_vnic_req);
	cr_assert_eq(vfpool_alloc_vm(h, "vm2", &v[0].base, 2, &l[0].base, NULL, 0), -EINVAL);
	cr_assert_eq(leases_of(&d, "vm2"), 0u);
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(abi, zero_means_no_numa_preference_and_a_node_needs_its_flag)
{
	struct test_daemon d;
	struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req, .vm_id = "vm1",
						  .vnic_id = "nic0", .network = "red",
						  .numa_node = 1);
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	struct vfpool *h;

	test_daemon_start(&d, "2x4", NULL);
	h = connect_ok(&d);
	cr_assert_eq(vfpool_alloc(h, &req, &l, NULL, 0), -EINVAL,
		     "a node without VFPOOL_ALLOC_NUMA is a forgotten flag");
	req.numa_node = -1;
	req.flags = VFPOOL_ALLOC_NUMA;
	cr_assert_eq(vfpool_alloc(h, &req, &l, NULL, 0), -EINVAL, "the flag names a node >= 0");
	req.numa_node = 0;
	req.flags = 0;
	cr_assert_eq(vfpool_alloc(h, &req, &l, NULL, 0), 0);
	cr_assert_eq(l.flags & VFPOOL_LEASE_NUMA_MISS, 0u, "no preference, no miss");
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(abi, opts_with_a_reserved_field_or_a_set_tail_are_refused)
{
	struct test_daemon d;
	struct {
		struct vfpool_opts base;
		uint64_t future;
	} o = { .base = VFPOOL_OPTS(vfpool_opts, .timeout_ms = 1000) };
	struct vfpool *h = NULL;

	test_daemon_start(&d, "1x4", NULL);
	o.base.sz = sizeof(o);
	cr_assert_eq(vfpool_connect(d.run_dir, &o.base, &h), 0);
	vfpool_close(h);
	o.future = 7;
	cr_assert_eq(vfpool_connect(d.run_dir, &o.base, &h), -E2BIG);
	o.future = 0;
	o.base.reserved = 1;
	cr_assert_eq(vfpool_connect(d.run_dir, &o.base, &h), -EINVAL);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(libvfpool, a_run_dir_without_a_daemon_is_econnrefused_and_says_so)
{
	char dir[] = "/tmp/vfpool-nodaemon.XXXXXX";
	struct vfpool_snapshot *s;
	struct vfpool *h;

	cr_assert(mkdtemp(dir));
	cr_assert_eq(vfpool_connect(dir, NULL, &h), -ECONNREFUSED, "no socket: nobody listens");
	cr_assert_eq(vfpool_snapshot_take(dir, &s), -ECONNREFUSED);
	cr_assert_str_eq(vfpool_strerror(-ECONNREFUSED), "no vfpoold listening");
	rmdir(dir);
}

Test(libvfpool, strerror_gives_no_errno_a_lease_meaning)
{
	static const int errs[] = { ENOENT, ENOSPC, ESTALE, EEXIST, EBUSY, EPERM, ENODEV };

	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		const char *m = vfpool_strerror(-errs[i]);

		cr_assert_str_eq(m, strerror(errs[i]), "%s: only the daemon's reason knows", m);
	}
}

Test(libvfpool, vfpool_run_dir_in_the_environment_is_where_null_connects)
{
	struct test_daemon d;
	struct vfpool_snapshot *s;
	struct vfpool *h;

	test_daemon_start(&d, "1x4", NULL);
	cr_assert_eq(setenv(VFPOOL_RUN_DIR_ENV, d.run_dir, 1), 0);
	cr_assert_eq(vfpool_connect(NULL, NULL, &h), 0);
	vfpool_close(h);
	cr_assert_eq(vfpool_snapshot_take(NULL, &s), 0);
	cr_assert_eq(vfpool_snapshot_pf_count(s), 1u);
	vfpool_snapshot_free(s);
	cr_assert_eq(test_daemon_stop(&d), 0);
	unsetenv(VFPOOL_RUN_DIR_ENV);
}

Test(libvfpool, release_failures_carry_the_daemons_reason)
{
	struct test_daemon d;
	struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req, .vm_id = "vm1",
						  .vnic_id = "nic0", .network = "red");
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	char why[160] = "stale";
	struct vfpool *h;

	test_daemon_start(&d, "1x4", NULL);
	h = connect_ok(&d);
	cr_assert_eq(vfpool_release(h, "vm1", "nic0", 0, why, sizeof(why)), -ENOENT);
	cr_assert_str_eq(why, "vm1/nic0: holds no lease");
	cr_assert_eq(vfpool_alloc(h, &req, &l, why, sizeof(why)), 0);
	cr_assert_str_eq(why, "", "no reason on success");
	cr_assert_eq(vfpool_release(h, "vm1", "nic0", l.generation + 5, why, sizeof(why)), -ESTALE);
	cr_assert(strstr(why, "vm1/nic0: generation "), "%s", why);
	cr_assert_eq(vfpool_release(h, "vm1", "nic0", l.generation, why, sizeof(why)), 0);
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(archive, exports_only_vfpool_symbols)
{
	char *out, *save = NULL;
	unsigned n = 0;

	cr_assert_eq(run_capture(&out, "nm -g --defined-only '%s' | awk 'NF == 3 { print $3 }'",
				 test_build_path("libvfpool.a")), 0);
	for (char *sym = strtok_r(out, "\n", &save); sym; sym = strtok_r(NULL, "\n", &save)) {
		cr_assert_eq(strncmp(sym, "vfpool_", 7), 0, "libvfpool.a exports %s", sym);
		n++;
	}
	cr_assert_geq(n, 20u, "found only %u exported symbols", n);
	free(out);
}

/* A launcher that happens to define a function named like one of ours links the archive
 * and keeps both: its own, and the library's, which the snapshot reader still calls. */
Test(archive, a_program_with_its_own_seqlock_copy_still_reads_snapshots, .timeout = 60)
{
	static const char prog[] =
		"#include <stdio.h>\n#include <string.h>\n#include <vfpool/vfpool.h>\n"
		"static int mine;\n"
		"void seqlock_copy(void *d, const void *s, size_t n);\n"
		"void seqlock_copy(void *d, const void *s, size_t n) { mine++; memset(d, 0, n);"
		" (void)s; }\n"
		"int main(int argc, char **argv) {\n"
		"	struct vfpool_snapshot *s; char buf[4];\n"
		"	int r = vfpool_snapshot_take(argv[1], &s);\n"
		"	seqlock_copy(buf, buf, sizeof(buf));\n"
		"	if (r) { printf(\"error %d\\n\", r); return 1; }\n"
		"	printf(\"pfs %u mine %d\\n\", vfpool_snapshot_pf_count(s), mine);\n"
		"	vfpool_snapshot_free(s); return argc != 2;\n}\n";
	const char *variant = getenv("VFPOOL_VARIANT");
	char dir[] = "/tmp/vfpool-archive.XXXXXX", path[64], *out;
	struct test_daemon d;
	FILE *f;

	cr_assert(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/prog.c", dir);
	f = fopen(path, "w");
	cr_assert(f);
	fputs(prog, f);
	fclose(f);
	cr_assert_eq(run_capture(&out, "cc -std=c17 -Wall -Werror %s -Iinclude %s '%s' -pthread "
				 "-o %s/prog 2>&1", variant && strcmp(variant, "asan") == 0 ?
				 "-fsanitize=address,undefined" : "", path,
				 test_build_path("libvfpool.a"), dir), 0, "%s", out);
	free(out);
	test_daemon_start(&d, "3x4", NULL);
	cr_assert_eq(run_capture(&out, "%s/prog %s", dir, d.run_dir), 0, "%s", out);
	cr_assert_str_eq(out, "pfs 3 mine 1\n", "the library used the program's seqlock_copy");
	free(out);
	cr_assert_eq(test_daemon_stop(&d), 0);
	cr_assert_eq(run_capture(&out, "rm -rf %s", dir), 0);
	free(out);
}
