/* SPDX-License-Identifier: MIT */
/* The lease journal on temporary directories: what survives, what is refused, and where
 * reading stops. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crc32c.h"
#include "core/journal.h"

static char dir[64];

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/vfpool-journal.XXXXXX");
	cr_assert(mkdtemp(dir));
}

static void remove_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

static struct journal_lease lease(uint32_t slot, uint64_t gen, const char *vm, const char *vnic)
{
	struct journal_lease l = { .slot = slot, .generation = gen, .bound_pid = 0 };

	snprintf(l.pci, sizeof(l.pci), "0000:3b:%02x.%u", (2 + slot / 8) & 0x1f, slot % 8);
	snprintf(l.vm, sizeof(l.vm), "%s", vm);
	snprintf(l.vnic, sizeof(l.vnic), "%s", vnic);
	snprintf(l.network, sizeof(l.network), "red");
	l.mac[0] = 0x02;
	l.mac[5] = (uint8_t)slot;
	return l;
}

static struct journal *open_ok(struct journal_live *live, struct journal_scan_result *scan)
{
	struct journal *j = NULL;
	int r = journal_open(dir, live, scan, &j);

	cr_assert_eq(r, 0, "journal_open %s: %s", dir, strerror(-r));
	return j;
}

static off_t file_size(void)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, JOURNAL_FILE);
	cr_assert_eq(stat(path, &st), 0);
	return st.st_size;
}

/* Writes n ADD records for slots 0..n-1 and returns the file size after them. */
static off_t write_adds(unsigned n)
{
	struct journal_live live;
	struct journal_scan_result scan;
	struct journal *j = open_ok(&live, &scan);

	for (unsigned i = 0; i < n; i++) {
		struct journal_lease l = lease(i, 100 + i, "vm1", "nic");

		snprintf(l.vnic, sizeof(l.vnic), "nic%u", i);
		cr_assert_eq(journal_stage_add(j, &l), 0);
	}
	cr_assert_eq(journal_commit(j), 0);
	journal_close(j);
	journal_live_fini(&live);
	return file_size();
}

static void corrupt_byte(off_t at)
{
	char path[128];
	uint8_t b;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, JOURNAL_FILE);
	fd = open(path, O_RDWR);
	cr_assert(fd >= 0);
	cr_assert_eq(pread(fd, &b, 1, at), 1);
	b ^= 0x40;
	cr_assert_eq(pwrite(fd, &b, 1, at), 1);
	close(fd);
}

Test(journal, crc32c_matches_the_castagnoli_check_value)
{
	cr_assert_eq(crc32c(0, "123456789", 9), 0xe3069283u);
}

Test(journal, round_trip_keeps_adds_and_drops_matching_deletes, .init = make_dir, .fini = remove_dir)
{
	struct journal_live live;
	struct journal_scan_result scan;
	struct journal *j = open_ok(&live, &scan);
	struct journal_lease a = lease(3, 7, "vm1", "nic0"), b = lease(9, 8, "vm2", "nic0");

	cr_assert_eq(live.n, 0u);
	b.bound_pid = 4242;
	cr_assert_eq(journal_stage_add(j, &a), 0);
	cr_assert_eq(journal_stage_add(j, &b), 0);
	cr_assert_eq(journal_stage_del(j, 3, 7), 0);
	cr_assert_eq(journal_commit(j), 0);
	journal_close(j);
	journal_live_fini(&live);

	j = open_ok(&live, &scan);
	cr_assert_eq(scan.stop, 0);
	cr_assert_eq(scan.records, 3u);
	cr_assert_eq(live.n, 1u);
	const struct journal_lease *got = journal_live_find(&live, 9);
	cr_assert(got);
	cr_assert_eq(got->generation, 8u);
	cr_assert_eq(got->bound_pid, 4242);
	cr_assert_str_eq(got->vm, "vm2");
	cr_assert_str_eq(got->pci, b.pci);
	cr_assert_eq(memcmp(got->mac, b.mac, 6), 0);
	cr_assert_null(journal_live_find(&live, 3));
	journal_close(j);
	journal_live_fini(&live);
}

Test(journal, delete_with_a_stale_generation_keeps_the_lease, .init = make_dir, .fini = remove_dir)
{
	struct journal_live live;
	struct journal_scan_result scan;
	struct journal *j = open_ok(&live, &scan);
	struct journal_lease a = lease(1, 20, "vm1", "nic0");

	cr_assert_eq(journal_stage_add(j, &a), 0);
	cr_assert_eq(journal_stage_del(j, 1, 19), 0);
	cr_assert_eq(journal_commit(j), 0);
	journal_close(j);
	journal_live_fini(&live);
	j = open_ok(&live, &scan);
	cr_assert_eq(live.n, 1u);
	journal_close(j);
	journal_live_fini(&live);
}

Test(journal, torn_tail_is_ignored_and_its_offset_reported, .init = make_dir, .fini = remove_dir)
{
	struct journal_live live;
	struct journal_scan_result scan;
	off_t full = write_adds(3);
	char path[128];

	cr_assert_eq(full, (off_t)(JOURNAL_HDR_SIZE + 3 * JOURNAL_ADD_SIZE));
	snprintf(path, sizeof(path), "%s/%s", dir, JOURNAL_FILE);
	/* the daemon died in the middle of writing the third record */
	cr_assert_eq(truncate(path, full - 50), 0);
	struct journal *j = open_ok(&live, &scan);
	cr_assert_eq(scan.stop, -ENODATA);
	cr_assert_eq(scan.good_bytes, JOURNAL_HDR_SIZE + 2 * JOURNAL_ADD_SIZE);
	cr_assert_eq(scan.records, 2u);
	cr_assert_eq(live.n, 2u);
	/* and the torn bytes are gone: what follows is appended to intact records */
	cr_assert_eq(file_size(), (off_t)(JOURNAL_HDR_SIZE + 2 * JOURNAL_ADD_SIZE));
	journal_close(j);
	journal_live_fini(&live);
}

Test(journal, corrupt_crc_mid_file_stops_the_read_there, .init = make_dir, .fini = remove_dir)
{
	struct journal_live live;
	struct journal_scan_result scan;

	write_adds(4);
	/* a bit flips inside record 2's payload (the vm name) */
	corrupt_byte((off_t)(JOURNAL_HDR_SIZE + JOURNAL_ADD_SIZE + JOURNAL_REC_HDR + 40));
	struct journal *j = open_ok(&live, &scan);
	cr_assert_eq(scan.stop, -EBADMSG);
	cr_assert_str_eq(scan.why, "crc mismatch");
	cr_assert_eq(scan.good_bytes, JOURNAL_HDR_SIZE + JOURNAL_ADD_SIZE);
	cr_assert_eq(live.n, 1u, "records after the corrupt one are not trusted");
	cr_assert(journal_live_find(&live, 0));
	journal_close(j);
	journal_live_fini(&live);
}

Test(journal, file_that_is_not_a_journal_is_corrupt_at_offset_zero, .init = make_dir, .fini = remove_dir)
{
	struct journal_scan_result scan;
	uint8_t junk[64];

	memset(junk, 'x', sizeof(junk));
	cr_assert_eq(journal_scan(junk, sizeof(junk), NULL, NULL, &scan), 0);
	cr_assert_eq(scan.stop, -EBADMSG);
	cr_assert_eq(scan.good_bytes, 0u);
}

Test(journal, compaction_keeps_exactly_the_live_leases, .init = make_dir, .fini = remove_dir)
{
	struct journal_live live;
	struct journal_scan_result scan;
	struct journal *j = open_ok(&live, &scan);
	_Atomic uint64_t stat = 0;
	unsigned rounds = 0;

	journal_set_stat(j, &stat);
	/* churn: slots 0..7 leased and released over and over, slots 100..102 stay */
	for (uint32_t s = 100; s < 103; s++) {
		struct journal_lease l = lease(s, s, "keep", "nic");

		snprintf(l.vnic, sizeof(l.vnic), "nic%u", s);
		cr_assert_eq(journal_stage_add(j, &l), 0);
		cr_assert_eq(journal_live_apply(&live, &(struct journal_rec){ JOURNAL_LEASE_ADD, l }), 0);
	}
	for (uint64_t g = 1000; !journal_wants_compaction(j, live.n); g++, rounds++) {
		struct journal_lease l = lease((uint32_t)(g % 8), g, "churn", "nic0");

		cr_assert_eq(journal_stage_add(j, &l), 0);
		cr_assert_eq(journal_stage_del(j, l.slot, g), 0);
		if (rounds % 64 == 0)
			cr_assert_eq(journal_commit(j), 0);
	}
	cr_assert_eq(journal_commit(j), 0);
	cr_assert(journal_wants_compaction(j, live.n));
	cr_assert_gt(atomic_load(&stat), 4u * JOURNAL_COMPACT_MIN);
	cr_assert_eq(journal_compact(j, live.leases, live.n), 0);
	cr_assert_eq(atomic_load(&stat), JOURNAL_HDR_SIZE + 3 * JOURNAL_ADD_SIZE);
	cr_assert_not(journal_wants_compaction(j, live.n));
	/* appends continue on the new file */
	struct journal_lease late = lease(5, 99999, "late", "nic0");
	cr_assert_eq(journal_stage_add(j, &late), 0);
	cr_assert_eq(journal_commit(j), 0);
	journal_close(j);
	journal_live_fini(&live);

	j = open_ok(&live, &scan);
	cr_assert_eq(scan.stop, 0);
	cr_assert_eq(live.n, 4u);
	for (uint32_t s = 100; s < 103; s++)
		cr_assert(journal_live_find(&live, s), "slot %u lost in compaction", s);
	cr_assert(journal_live_find(&live, 5));
	cr_assert_eq(file_size(), (off_t)(JOURNAL_HDR_SIZE + 4 * JOURNAL_ADD_SIZE));
	journal_close(j);
	journal_live_fini(&live);
}
