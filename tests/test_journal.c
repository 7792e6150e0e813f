/* SPDX-License-Identifier: MIT */
/* The lease journal on temporary directories: what survives, what is refused, how damage is
 * read around and reported, and where space runs out. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/lease/crc32c.h"
#include "core/lease/journal.h"

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
	struct journal_lease l = { .slot = slot, .generation = gen, .bound_pid = 0,
				   .owner_uid = 1000 + slot };

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

static const char *journal_path(void)
{
	static char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, JOURNAL_FILE);
	return path;
}

static off_t file_size(void)
{
	struct stat st;

	cr_assert_eq(stat(journal_path(), &st), 0);
	return st.st_size;
}

static uint8_t *read_journal(size_t *ret_len)
{
	FILE *f = fopen(journal_path(), "r");
	uint8_t *buf;
	long n;

	cr_assert(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	cr_assert(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*ret_len = (size_t)n;
	return buf;
}

static void write_journal(const uint8_t *buf, size_t len)
{
	FILE *f = fopen(journal_path(), "w");

	cr_assert(f);
	cr_assert_eq(fwrite(buf, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

/* Where ADD record i starts in a journal write_adds made (a new journal has no mark) */
static off_t add_at(unsigned i)
{
	return (off_t)(JOURNAL_HDR_SIZE + i * JOURNAL_ADD_SIZE);
}

/* Writes n ADD records for slots 0..n-1 (vm1/nic<i>, generation 100+i) and returns the
 * file size after them. */
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
	uint8_t b;
	int fd = open(journal_path(), O_RDWR);

	cr_assert(fd >= 0);
	cr_assert_eq(pread(fd, &b, 1, at), 1);
	b ^= 0x40;
	cr_assert_eq(pwrite(fd, &b, 1, at), 1);
	close(fd);
}

/* The names of the damaged journals kept aside, comma-separated, and how many */
static unsigned asides(char *out, size_t n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned k = 0;

	cr_assert(d);
	out[0] = '\0';
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, JOURNAL_CORRUPT_PREFIX, strlen(JOURNAL_CORRUPT_PREFIX)))
			continue;
		snprintf(out + strlen(out), n - strlen(out), "%s%s", k ? "," : "", e->d_name);
		k++;
	}
	closedir(d);
	return k;
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
	b.owner_uid = 65534;
	snprintf(b.profile, sizeof(b.profile), "fast");
	cr_assert_eq(journal_stage_add(j, &a), 0);
	cr_assert_eq(journal_stage_add(j, &b), 0);
	cr_assert_eq(journal_stage_del(j, 3, 7), 0);
	cr_assert_eq(journal_commit(j), 0);
	journal_close(j);
	journal_live_fini(&live);

	j = open_ok(&live, &scan);
	cr_assert_eq(scan.stop, 0);
	cr_assert_eq(scan.version, JOURNAL_VERSION);
	cr_assert_eq(scan.records, 3u);
	cr_assert_eq(live.n, 1u);
	const struct journal_lease *got = journal_live_find(&live, 9);
	cr_assert(got);
	cr_assert_eq(got->generation, 8u);
	cr_assert_eq(got->bound_pid, 4242);
	cr_assert_eq(got->owner_uid, 65534u, "the owner is journaled");
	cr_assert_str_eq(got->profile, "fast", "the profile is journaled");
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

Test(journal, torn_tail_is_not_lost_and_is_cut_away, .init = make_dir, .fini = remove_dir)
{
	struct journal_live live;
	struct journal_scan_result scan;
	off_t full = write_adds(3);

	cr_assert_eq(full, add_at(3));
	/* the daemon died in the middle of writing the third record */
	cr_assert_eq(truncate(journal_path(), full - 50), 0);
	struct journal *j = open_ok(&live, &scan);
	cr_assert_eq(scan.stop, -ENODATA);
	cr_assert(scan.torn);
	cr_assert_eq(scan.lost, 0u, "a write never acknowledged is no loss");
	cr_assert_eq(scan.good_bytes, (uint64_t)add_at(2));
	cr_assert_eq(scan.records, 2u);
	cr_assert_eq(live.n, 2u);
	cr_assert_eq(asides((char[256]){ 0 }, 256), 0u, "nothing damaged to keep");
	/* and the torn bytes are gone (rewritten: the mark, then the intact records): what
	 * follows is appended to intact records */
	cr_assert_eq(file_size(), (off_t)(JOURNAL_HDR_SIZE + JOURNAL_GEN_SIZE +
					  2 * JOURNAL_ADD_SIZE));
	journal_close(j);
	journal_live_fini(&live);
}

Test(journal, mapped_copy_cut_short_is_a_torn_tail, .init = make_dir, .fini = remove_dir)
{
	struct journal_scan_result scan;
	size_t len;
	uint8_t *buf;

	write_adds(3);
	buf = read_journal(&len);
	buf = realloc(buf, len + 4096);
	/* a kill in the middle of the memcpy: the last record's second half (its trailer
	 * among it) never arrived, and the mapping's unused zeros follow */
	memset(buf + add_at(2) + JOURNAL_ADD_SIZE / 2, 0, JOURNAL_ADD_SIZE / 2 + 4096);
	cr_assert_eq(journal_scan(buf, len + 4096, NULL, NULL, &scan), 0);
	cr_assert(scan.torn);
	cr_assert_eq(scan.lost, 0u);
	cr_assert_eq(scan.records, 2u);
	cr_assert_eq(scan.stop, -ENODATA);
	free(buf);
}

/* The defect: one flipped bit in record 3 of 20 dropped the 17 after it, reported nothing
 * lost and rewrote the journal. */
Test(journal, flipped_bit_in_record_3_of_20_loses_only_that_record, .init = make_dir,
     .fini = remove_dir)
{
	struct journal_live live;
	struct journal_scan_result scan;

	write_adds(20);
	corrupt_byte(add_at(2) + JOURNAL_REC_HDR + 16 + 3); /* a bit of record 3's MAC */
	struct journal *j = open_ok(&live, &scan);
	cr_assert_eq(live.n, 19u, "every intact record after the damaged one is read");
	cr_assert_null(journal_live_find(&live, 2));
	for (uint32_t s = 3; s < 20; s++)
		cr_assert(journal_live_find(&live, s), "slot %u dropped after the damage", s);
	cr_assert_eq(scan.stop, -EBADMSG);
	cr_assert_str_eq(scan.why, "crc mismatch");
	cr_assert_eq(scan.lost, 1u);
	cr_assert_eq(scan.records, 19u);
	cr_assert_eq(scan.n_damage, 1u);
	cr_assert_eq(scan.damage[0].offset, (uint64_t)add_at(2));
	cr_assert_eq(scan.damage[0].type, JOURNAL_LEASE_ADD);
	cr_assert(scan.damage[0].named, "its names are still readable");
	cr_assert_str_eq(scan.damage[0].vm, "vm1");
	cr_assert_str_eq(scan.damage[0].vnic, "nic2");
	cr_assert_not(scan.damage[0].superseded);
	journal_close(j);
	journal_live_fini(&live);
}

Test(journal, damaged_length_field_still_resynchronises, .init = make_dir, .fini = remove_dir)
{
	struct journal_live live;
	struct journal_scan_result scan;

	write_adds(8);
	corrupt_byte(add_at(4) + 9); /* record 5's length: 208 + 16384 */
	struct journal *j = open_ok(&live, &scan);
	cr_assert_eq(live.n, 7u);
	cr_assert_null(journal_live_find(&live, 4));
	cr_assert_eq(scan.lost, 1u);
	cr_assert_str_eq(scan.why, "record length out of range");
	journal_close(j);
	journal_live_fini(&live);
}

Test(journal, damaged_last_record_with_its_trailer_is_lost_not_torn, .init = make_dir,
     .fini = remove_dir)
{
	struct journal_live live;
	struct journal_scan_result scan;

	write_adds(4);
	corrupt_byte(add_at(3) + JOURNAL_REC_HDR + 24); /* its generation */
	struct journal *j = open_ok(&live, &scan);
	cr_assert_not(scan.torn, "complete, trailer written: damage, not an unfinished write");
	cr_assert_eq(scan.lost, 1u);
	cr_assert_eq(live.n, 3u);
	journal_close(j);
	journal_live_fini(&live);
}

Test(journal, damaged_add_released_later_is_reported_as_nothing_lost, .init = make_dir,
     .fini = remove_dir)
{
	struct journal_live live;
	struct journal_scan_result scan;
	struct journal *j = open_ok(&live, &scan);
	struct journal_lease a = lease(1, 5, "vm1", "nic0"), b = lease(2, 6, "vm2", "nic0");

	cr_assert_eq(journal_stage_add(j, &a), 0);
	cr_assert_eq(journal_stage_add(j, &b), 0);
	cr_assert_eq(journal_stage_del(j, 1, 5), 0);
	cr_assert_eq(journal_commit(j), 0);
	journal_close(j);
	journal_live_fini(&live);
	corrupt_byte(add_at(0) + JOURNAL_REC_HDR + 17); /* a's MAC */
	j = open_ok(&live, &scan);
	cr_assert_eq(scan.lost, 1u);
	cr_assert(scan.damage[0].named);
	cr_assert(scan.damage[0].superseded, "its release was read: the lease is not lost");
	cr_assert_eq(live.n, 1u);
	journal_close(j);
	journal_live_fini(&live);
}

Test(journal, damaged_journal_is_kept_aside_before_it_is_rewritten, .init = make_dir,
     .fini = remove_dir)
{
	struct journal_live live;
	struct journal_scan_result scan;
	char names[256], first[256], path[384];
	size_t len, kept_len;
	uint8_t *damaged, *kept;

	write_adds(6);
	corrupt_byte(add_at(1) + JOURNAL_REC_HDR + 20);
	damaged = read_journal(&len);
	struct journal *j = open_ok(&live, &scan);
	cr_assert_eq(asides(names, sizeof(names)), 1u);
	cr_assert_str_eq(j->aside, names);
	snprintf(path, sizeof(path), "%s/%s", dir, names);
	{
		FILE *f = fopen(path, "r");

		cr_assert(f);
		kept = malloc(len + 1);
		kept_len = fread(kept, 1, len + 1, f);
		fclose(f);
	}
	cr_assert_eq(kept_len, len);
	cr_assert_eq(memcmp(kept, damaged, len), 0, "the evidence is kept byte for byte");
	free(kept);
	journal_close(j);
	journal_live_fini(&live);

	/* the journal itself was rewritten from what could be read */
	j = open_ok(&live, &scan);
	cr_assert_eq(scan.stop, 0);
	cr_assert_eq(scan.lost, 0u);
	cr_assert_eq(live.n, 5u);
	journal_close(j);
	journal_live_fini(&live);

	/* damaged again (within the same second): a second copy, the first untouched */
	snprintf(first, sizeof(first), "%s", names);
	corrupt_byte(JOURNAL_HDR_SIZE + JOURNAL_GEN_SIZE + JOURNAL_REC_HDR + 20);
	j = open_ok(&live, &scan);
	cr_assert_eq(scan.lost, 1u);
	cr_assert_eq(asides(names, sizeof(names)), 2u, "%s", names);
	cr_assert_str_neq(j->aside, first, "a kept journal is never overwritten");
	{
		FILE *f = fopen(path, "r");

		cr_assert(f);
		kept = malloc(len + 1);
		kept_len = fread(kept, 1, len + 1, f);
		fclose(f);
	}
	cr_assert_eq(kept_len, len);
	cr_assert_eq(memcmp(kept, damaged, len), 0);
	free(kept);
	free(damaged);
	journal_close(j);
	journal_live_fini(&live);
}

Test(journal, file_that_is_not_a_journal_is_all_damage)
{
	struct journal_scan_result scan;
	unsigned visited = 0;
	uint8_t junk[64];

	memset(junk, 'x', sizeof(junk));
	cr_assert_eq(journal_scan(junk, sizeof(junk), NULL, &visited, &scan), 0);
	cr_assert_eq(scan.stop, -EBADMSG);
	cr_assert(scan.header_damaged);
	cr_assert_eq(scan.records, 0u);
	cr_assert_geq(scan.lost, 1u);
}

Test(journal, newer_journal_is_refused_and_left_untouched, .init = make_dir, .fini = remove_dir)
{
	struct journal_live live;
	struct journal_scan_result scan;
	struct journal *j = NULL;
	uint8_t hdr[JOURNAL_HDR_SIZE + 8] = { 0 };
	uint32_t v = JOURNAL_VERSION + 1, crc;
	size_t len;
	uint8_t *after;

	journal_encode_header(hdr);
	memcpy(hdr + 8, &v, 4);
	crc = crc32c(0, hdr, 12);
	memcpy(hdr + 12, &crc, 4);
	memset(hdr + JOURNAL_HDR_SIZE, 0x5a, 8);
	write_journal(hdr, sizeof(hdr));
	cr_assert_eq(journal_open(dir, &live, &scan, &j), -EPROTONOSUPPORT);
	after = read_journal(&len);
	cr_assert_eq(len, sizeof(hdr));
	cr_assert_eq(memcmp(after, hdr, len), 0);
	free(after);
}

/* A version 1 journal as the previous daemon wrote it: header, then records of u32 len,
 * u32 crc, u16 type, u16 zero, payload. */
static size_t v1_record(uint8_t *out, uint16_t type, const void *payload, uint32_t len)
{
	uint32_t crc;

	memset(out, 0, 12);
	memcpy(out, &len, 4);
	memcpy(out + 8, &type, 2);
	memcpy(out + 12, payload, len);
	crc = crc32c(crc32c(0, out, 4), out + 8, 4 + (size_t)len);
	memcpy(out + 4, &crc, 4);
	return 12 + len;
}

Test(journal, version_1_journal_is_read_and_rewritten_as_version_2, .init = make_dir,
     .fini = remove_dir)
{
	struct {
		uint32_t slot;
		int32_t bound_pid;
		uint64_t generation;
		char pci[16], vm[64], vnic[32], network[32];
		uint8_t mac[6];
		uint16_t flags;
	} add = { .slot = 4, .bound_pid = 77, .generation = 900, .pci = "0000:3b:02.4",
		  .vm = "old-vm", .vnic = "nic0", .network = "red", .mac = { 2, 0, 0, 0, 0, 9 } };
	uint8_t file[1024], del[16] = { 0 };
	uint64_t gen = 901;
	uint32_t ver = 1, slot = 5;
	size_t off = JOURNAL_HDR_SIZE;
	struct journal_live live;
	struct journal_scan_result scan;
	uint8_t *now;
	size_t len;

	_Static_assert(sizeof(add) == 168, "the version 1 payload");
	memset(file, 0, sizeof(file));
	memcpy(file, &(uint64_t){ JOURNAL_MAGIC }, 8);
	memcpy(file + 8, &ver, 4);
	off += v1_record(file + off, 1, &add, sizeof(add));
	add.slot = 5;
	add.generation = 901;
	snprintf(add.vnic, sizeof(add.vnic), "nic1");
	off += v1_record(file + off, 1, &add, sizeof(add));
	memcpy(del, &slot, 4);
	memcpy(del + 8, &gen, 8);
	off += v1_record(file + off, 2, del, sizeof(del));
	write_journal(file, off);

	struct journal *j = open_ok(&live, &scan);
	cr_assert_eq(scan.version, JOURNAL_VERSION_1);
	cr_assert_eq(scan.stop, 0);
	cr_assert_eq(live.n, 1u);
	cr_assert_str_eq(live.leases[0].vm, "old-vm");
	cr_assert_eq(live.leases[0].bound_pid, 77);
	cr_assert_eq(live.leases[0].owner_uid, JOURNAL_OWNER_UNKNOWN, "v1 kept no owner");
	cr_assert_geq(live.gen_high, 901u);
	journal_close(j);
	journal_live_fini(&live);
	now = read_journal(&len);
	cr_assert_eq(memcmp(now + 8, &(uint32_t){ JOURNAL_VERSION }, 4), 0, "upgraded on disk");
	free(now);
	j = open_ok(&live, &scan);
	cr_assert_eq(scan.version, JOURNAL_VERSION);
	cr_assert_eq(live.n, 1u);
	cr_assert_geq(live.gen_high, 901u, "the generation high-water mark survived the upgrade");
	journal_close(j);
	journal_live_fini(&live);
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
		struct journal_rec rec = { .type = JOURNAL_LEASE_ADD, .lease = l };

		snprintf(rec.lease.vnic, sizeof(rec.lease.vnic), "nic%u", s);
		cr_assert_eq(journal_stage_add(j, &rec.lease), 0);
		cr_assert_eq(journal_live_apply(&live, &rec), 0);
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
	cr_assert_eq(journal_compact(j, live.leases, live.n, 1000 + rounds), 0);
	cr_assert_eq(atomic_load(&stat),
		     JOURNAL_HDR_SIZE + JOURNAL_GEN_SIZE + 3 * JOURNAL_ADD_SIZE);
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
	cr_assert_eq(file_size(), (off_t)(JOURNAL_HDR_SIZE + JOURNAL_GEN_SIZE +
					  4 * JOURNAL_ADD_SIZE));
	journal_close(j);
	journal_live_fini(&live);
}

/* Released leases leave no record after compaction; the mark keeps their generations
 * from coming back. */
Test(journal, generation_mark_survives_compaction_and_damage_raises_it, .init = make_dir,
     .fini = remove_dir)
{
	struct journal_live live;
	struct journal_scan_result scan;
	struct journal *j = open_ok(&live, &scan);
	struct journal_lease a = lease(1, 700, "vm1", "nic0");

	cr_assert_eq(journal_stage_gen(j, 1024), 0);
	cr_assert_eq(journal_stage_add(j, &a), 0);
	cr_assert_eq(journal_stage_del(j, 1, 700), 0);
	cr_assert_eq(journal_commit(j), 0);
	cr_assert_eq(journal_compact(j, NULL, 0, 1024), 0);
	journal_close(j);
	journal_live_fini(&live);
	j = open_ok(&live, &scan);
	cr_assert_eq(live.n, 0u);
	cr_assert_eq(live.gen_high, 1024u, "no lease left, the mark stays");
	a = lease(1, 1030, "vm1", "nic0");
	cr_assert_eq(journal_stage_add(j, &a), 0);
	cr_assert_eq(journal_commit(j), 0);
	journal_close(j);
	journal_live_fini(&live);
	/* the record with the highest generation is damaged: what it named cannot be read,
	 * so the next start skips a block past what can */
	corrupt_byte((off_t)(JOURNAL_HDR_SIZE + JOURNAL_GEN_SIZE + JOURNAL_REC_HDR + 20));
	j = open_ok(&live, &scan);
	cr_assert_eq(scan.lost, 1u);
	cr_assert_gt(live.gen_high, 1030u);
	journal_close(j);
	journal_live_fini(&live);
}

/* ---- space ---------------------------------------------------------------------------- */

static char mnt[48];

static void mount_small_tmpfs(const char *size)
{
	char opts[32];

	if (geteuid() != 0)
		cr_skip_test("needs root to mount a small tmpfs");
	snprintf(mnt, sizeof(mnt), "/tmp/vfpool-full.XXXXXX");
	cr_assert(mkdtemp(mnt));
	snprintf(opts, sizeof(opts), "size=%s", size);
	if (mount("tmpfs", mnt, "tmpfs", 0, opts) < 0) {
		rmdir(mnt);
		cr_skip_test("cannot mount a tmpfs: %s", strerror(errno));
	}
	snprintf(dir, sizeof(dir), "%s/run", mnt);
	cr_assert_eq(mkdir(dir, 0700), 0);
}

static void unmount_tmpfs(void)
{
	if (!mnt[0])
		return;
	umount2(mnt, MNT_DETACH);
	rmdir(mnt);
}

/* Writes a file until the file system is full; returns its path (remove it to free). */
static const char *fill(void)
{
	static char path[96];
	static uint8_t block[65536];
	int fd;

	snprintf(path, sizeof(path), "%s/filler", mnt);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert(fd >= 0);
	while (write(fd, block, sizeof(block)) > 0)
		;
	while (write(fd, block, 512) > 0)
		;
	cr_assert_eq(errno, ENOSPC);
	close(fd);
	return path;
}

Test(journal_space, full_tmpfs_refuses_growth_and_keeps_room_for_deletes, .fini = unmount_tmpfs)
{
	struct journal_live live;
	struct journal_scan_result scan;
	struct journal *j;
	uint32_t n = 0;
	int r = 0;

	mount_small_tmpfs("2m");
	j = open_ok(&live, &scan);
	cr_assert(j->in_memory, "a tmpfs journal is mapped");
	const char *filler = fill();
	/* leases until the reservation cannot grow: every one journaled through the mapping
	 * (a store past allocated space would be a SIGBUS, ending the test) */
	for (; n < 100000; n++) {
		struct journal_lease l = lease(n % 4096, 1 + n, "vm1", "nic");

		r = journal_room(j, n % 4096);
		if (r)
			break;
		snprintf(l.vnic, sizeof(l.vnic), "nic%u", n);
		cr_assert_eq(journal_stage_add(j, &l), 0);
		cr_assert_eq(journal_append_mapped(j), 0);
	}
	cr_assert(r == -ENOSPC, "journal_room: %s after %u leases", strerror(-r), n);
	cr_assert_gt(n, 100u);
	/* a delete record for each live lease still fits */
	for (uint32_t k = 0; k < 64; k++)
		cr_assert_eq(journal_stage_del(j, k, 1 + k), 0);
	cr_assert_eq(journal_append_mapped(j), 0);
	cr_assert_eq(unlink(filler), 0);
	cr_assert_eq(journal_room(j, 4096), 0, "space again: the reservation grows");
	journal_close(j);
	journal_live_fini(&live);
}

/* A file system that gives fallocate's space but fails the write (here a file size limit,
 * which fallocate with KEEP_SIZE does not check): the failed write's new leases are handed
 * back, its deletes staged again, and nothing partial stays in the file. */
static int seen_adds;

static int count_add(void *ctx, const struct journal_rec *rec)
{
	(void)ctx;
	seen_adds += rec->type == JOURNAL_LEASE_ADD;
	return 0;
}

Test(journal_space, refused_write_hands_back_its_adds_and_restages_its_deletes, .init = make_dir,
     .fini = remove_dir)
{
	struct journal_live live;
	struct journal_scan_result scan;
	struct rlimit lim, old;
	const uint8_t *buf;
	uint64_t off;
	size_t len;
	ssize_t n;

	write_adds(2);
	struct journal *j = open_ok(&live, &scan);
	struct journal_lease a = lease(7, 300, "vm9", "nic0");
	cr_assert_eq(journal_stage_del(j, 0, 100), 0);
	cr_assert_eq(journal_stage_add(j, &a), 0);
	cr_assert_eq(journal_commit_begin(j, &buf, &len, &off), 0);
	/* the write that fails: only part of it fits under the limit */
	signal(SIGXFSZ, SIG_IGN);
	cr_assert_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = off + JOURNAL_DEL_SIZE + 40;
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	n = pwrite(j->fd, buf, len, (off_t)off);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	cr_assert(n >= 0 && (size_t)n < len, "the write was meant to be cut short: %zd", n);
	/* meanwhile another release was staged */
	cr_assert_eq(journal_stage_del(j, 1, 101), 0);
	journal_commit_end(j, -EFBIG);
	seen_adds = 0;
	cr_assert_eq(journal_commit_refused(j, count_add, NULL), 0);
	cr_assert_eq(seen_adds, 1, "the new lease of the failed write is handed back");
	cr_assert_eq(file_size(), (off_t)off, "nothing of the failed write stays in the file");
	cr_assert(journal_has_pending(j));
	cr_assert_eq(journal_commit(j), 0, "the deletes are written on the retry");
	journal_close(j);
	journal_live_fini(&live);

	j = open_ok(&live, &scan);
	cr_assert_eq(scan.stop, 0, "no damage: every record was encoded again at its new offset");
	cr_assert_eq(live.n, 0u, "both releases made it; the refused lease did not");
	journal_close(j);
	journal_live_fini(&live);
}

Test(journal, planted_symlink_is_not_followed, .init = make_dir, .fini = remove_dir)
{
	struct journal_live live;
	struct journal_scan_result scan;
	struct journal *j = NULL;
	char victim[128], link[128], tmp_link[128];
	struct stat st;
	FILE *f;

	snprintf(victim, sizeof(victim), "%s/victim", dir);
	f = fopen(victim, "w");
	cr_assert(f);
	fputs("precious", f);
	fclose(f);
	/* the temp file of a compaction, planted as a link to a file root owns */
	snprintf(tmp_link, sizeof(tmp_link), "%s/%s", dir, JOURNAL_TMP_FILE);
	cr_assert_eq(symlink(victim, tmp_link), 0);
	j = open_ok(&live, &scan); /* a new journal: written through the temp file */
	journal_close(j);
	journal_live_fini(&live);
	cr_assert_eq(stat(victim, &st), 0);
	cr_assert_eq(st.st_size, 8, "the link's target was truncated");
	/* the journal itself as a link: refused, the target untouched */
	snprintf(link, sizeof(link), "%s/%s", dir, JOURNAL_FILE);
	cr_assert_eq(unlink(link), 0);
	cr_assert_eq(symlink(victim, link), 0);
	cr_assert_eq(journal_open(dir, &live, &scan, &j), -ELOOP);
	cr_assert_eq(stat(victim, &st), 0);
	cr_assert_eq(st.st_size, 8);
}

/* A crash mid-append while the disk is full must not keep the daemon from starting: the
 * torn record cannot be rewritten away (no space for a new file), so it is cut in place. */
Test(journal_space, torn_tail_on_a_full_tmpfs_is_cut_in_place, .fini = unmount_tmpfs)
{
	struct journal_live live;
	struct journal_scan_result scan;
	uint8_t rec[JOURNAL_ADD_SIZE];
	struct journal *j;
	uint64_t end;
	int fd;

	mount_small_tmpfs("2m");
	j = open_ok(&live, &scan);
	for (uint32_t s = 0; s < 3; s++) {
		struct journal_lease l = lease(s, 10 + s, "vm1", "nic");

		snprintf(l.vnic, sizeof(l.vnic), "nic%u", s);
		cr_assert_eq(journal_stage_add(j, &l), 0);
	}
	cr_assert_eq(journal_append_mapped(j), 0);
	end = j->size;
	journal_close(j);
	journal_live_fini(&live);
	/* the fourth record's first half, as a kill in the middle of its memcpy leaves it */
	struct journal_lease torn = lease(3, 13, "vm1", "nic3");
	cr_assert_eq(journal_encode_add(&torn, end, rec, sizeof(rec)), (int)sizeof(rec));
	fd = open(journal_path(), O_WRONLY);
	cr_assert(fd >= 0);
	cr_assert_eq(pwrite(fd, rec, sizeof(rec) / 2, (off_t)end), (ssize_t)sizeof(rec) / 2);
	close(fd);
	const char *filler = fill();

	j = open_ok(&live, &scan);
	cr_assert(scan.torn);
	cr_assert_eq(live.n, 3u);
	cr_assert_eq(j->compact_err, -ENOSPC, "no room to rewrite: %s", strerror(-j->compact_err));
	struct journal_lease next = lease(4, 14, "vm1", "nic4");
	cr_assert_eq(journal_stage_add(j, &next), 0);
	cr_assert_eq(journal_append_mapped(j), 0, "appends go on after the intact records");
	journal_close(j);
	journal_live_fini(&live);
	cr_assert_eq(unlink(filler), 0);
	j = open_ok(&live, &scan);
	cr_assert_eq(scan.stop, 0, "the torn bytes were cut: %s", scan.why ? scan.why : "");
	cr_assert_eq(live.n, 4u);
	journal_close(j);
	journal_live_fini(&live);
}

static void make_shm_dir(void)
{
	snprintf(dir, sizeof(dir), "/dev/shm/vfpool-journal.XXXXXX");
	cr_assert(mkdtemp(dir));
}

static ino_t ino_of(const char *name)
{
	char path[160];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	cr_assert_eq(stat(path, &st), 0, "%s: %s", path, strerror(errno));
	return st.st_ino;
}

/* leases 0..7 leased and released until the mapped journal wants compacting */
static void churn_until_due(struct journal *j, struct journal_live *live, uint64_t *g)
{
	for (unsigned rounds = 0; !journal_wants_compaction(j, live->n); (*g)++, rounds++) {
		struct journal_lease l = lease((uint32_t)(*g % 8), *g, "churn", "nic0");

		cr_assert_eq(journal_stage_add(j, &l), 0);
		cr_assert_eq(journal_stage_del(j, l.slot, *g), 0);
		if (rounds % 64 == 0)
			cr_assert_eq(journal_commit(j), 0);
	}
	cr_assert_eq(journal_commit(j), 0);
}

/* A mapped journal's compaction keeps the file it replaces as the next one's (allocating,
 * populating and freeing megabytes per compaction cost the serve path milliseconds), and
 * the reused file reads as the snapshot and nothing else: every byte after it is zero, the
 * records it held before are gone. */
Test(journal, mapped_compaction_reuses_the_replaced_file_and_reads_as_the_snapshot_only,
     .init = make_shm_dir, .fini = remove_dir)
{
	struct journal_live live;
	struct journal_scan_result scan;
	struct journal *j = open_ok(&live, &scan);
	uint64_t g = 1000;
	size_t len;
	uint8_t *buf;
	ino_t first;

	cr_assert(j->in_memory, "/dev/shm is tmpfs: the journal is mapped");
	for (uint32_t s = 100; s < 103; s++) {
		struct journal_rec rec = { .type = JOURNAL_LEASE_ADD,
					   .lease = lease(s, s, "keep", "nic") };

		cr_assert_eq(journal_stage_add(j, &rec.lease), 0);
		cr_assert_eq(journal_live_apply(&live, &rec), 0);
	}
	churn_until_due(j, &live, &g);
	first = ino_of(JOURNAL_FILE);
	cr_assert_eq(journal_compact(j, live.leases, live.n, g), 0);
	cr_assert_eq(ino_of(JOURNAL_TMP_FILE), first, "the replaced journal is kept as spare");
	churn_until_due(j, &live, &g);
	cr_assert_eq(journal_compact(j, live.leases, live.n, g), 0);
	cr_assert_eq(ino_of(JOURNAL_FILE), first, "the second compaction reused the first file");
	cr_assert_eq(j->size, JOURNAL_HDR_SIZE + JOURNAL_GEN_SIZE + 3 * JOURNAL_ADD_SIZE);
	buf = read_journal(&len);
	cr_assert_gt(len, 4u * 1024 * 1024, "the file held megabytes of churn before");
	for (size_t i = j->size; i < len; i++)
		if (buf[i])
			cr_assert_fail("byte %zu of %zu after the snapshot is %#x, not zero", i, len,
				       buf[i]);
	free(buf);
	journal_close(j);
	journal_live_fini(&live);

	j = open_ok(&live, &scan);
	cr_assert_eq(scan.stop, 0);
	cr_assert_eq(scan.lost, 0u);
	cr_assert_eq(live.n, 3u);
	for (uint32_t s = 100; s < 103; s++)
		cr_assert(journal_live_find(&live, s), "slot %u lost in compaction", s);
	cr_assert_geq(live.gen_high, g);
	journal_close(j);
	journal_live_fini(&live);
}

/* A crash inside a mapped compaction can leave the replaced journal's second name: it is
 * never read, and the next start removes it. */
Test(journal, a_compaction_name_left_by_a_crash_is_removed_at_open, .init = make_shm_dir,
     .fini = remove_dir)
{
	struct journal_live live;
	struct journal_scan_result scan;
	struct journal *j = open_ok(&live, &scan);
	struct journal_lease l = lease(7, 7, "gone", "nic0");
	char old[160];

	cr_assert_eq(journal_stage_add(j, &l), 0);
	cr_assert_eq(journal_commit(j), 0);
	snprintf(old, sizeof(old), "%s/%s", dir, JOURNAL_OLD_FILE);
	cr_assert_eq(link(journal_path(), old), 0);
	cr_assert_eq(journal_stage_del(j, 7, 7), 0);
	cr_assert_eq(journal_commit(j), 0);
	journal_close(j);
	journal_live_fini(&live);

	j = open_ok(&live, &scan);
	cr_assert_eq(live.n, 0u);
	cr_assert_eq(access(old, F_OK), -1, "%s is still there", old);
	journal_close(j);
	journal_live_fini(&live);
}
