/* SPDX-License-Identifier: MIT */
/*
 * sqlite_claim: the database claim a cloud controller does (what Nova does with its
 * PCI device table), as the baseline the durable daemon is held against. SQLite in WAL
 * mode with synchronous=FULL, a table of VFs shaped like the daemon scenarios' simulated
 * host (BENCH_SIM_PFS x BENCH_SIM_VFS rows), one transaction per claim
 *
 *   UPDATE vf SET holder=? WHERE id=(SELECT id FROM vf WHERE holder IS NULL LIMIT 1)
 *   RETURNING id
 *
 * and one per release (UPDATE vf SET holder=NULL WHERE id=?), prepared once, on the file
 * system the daemon scenarios keep their lease journal on (bench_journal_fs), in the same
 * run. One op is a claim+release pair, as for vfpool.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <errno.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/bench_pool.h"
#include "bench/scenario.h"

struct claim_db {
	sqlite3 *db;
	sqlite3_stmt *claim, *release;
};

static int exec_sql(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		bench_error("sqlite_claim: %s: %s", sql, err ? err : "?");
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

static int db_open(struct claim_db *c, const char *path, unsigned n_vfs)
{
	char sql[128];

	memset(c, 0, sizeof(*c));
	if (sqlite3_open(path, &c->db) != SQLITE_OK) {
		bench_error("sqlite_claim: open %s: %s", path, sqlite3_errmsg(c->db));
		return -1;
	}
	if (exec_sql(c->db, "PRAGMA journal_mode=WAL") || exec_sql(c->db, "PRAGMA synchronous=FULL") ||
	    exec_sql(c->db, "CREATE TABLE vf (id INTEGER PRIMARY KEY, holder TEXT)") ||
	    exec_sql(c->db, "BEGIN"))
		return -1;
	for (unsigned i = 0; i < n_vfs; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO vf (id, holder) VALUES (%u, NULL)", i);
		if (exec_sql(c->db, sql))
			return -1;
	}
	if (exec_sql(c->db, "COMMIT"))
		return -1;
	if (sqlite3_prepare_v2(c->db,
			       "UPDATE vf SET holder=? WHERE id=(SELECT id FROM vf WHERE holder "
			       "IS NULL LIMIT 1) RETURNING id", -1, &c->claim, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(c->db, "UPDATE vf SET holder=NULL WHERE id=?", -1, &c->release,
			       NULL) != SQLITE_OK) {
		bench_error("sqlite_claim: prepare: %s", sqlite3_errmsg(c->db));
		return -1;
	}
	return 0;
}

static void db_close(struct claim_db *c)
{
	sqlite3_finalize(c->claim);
	sqlite3_finalize(c->release);
	sqlite3_close(c->db);
}

/* One transaction (autocommit: the statement is its own), stepped to its end. */
static int claim(struct claim_db *c, const char *holder, int64_t *ret_id)
{
	int rc;

	sqlite3_bind_text(c->claim, 1, holder, -1, SQLITE_STATIC);
	rc = sqlite3_step(c->claim);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(c->claim);
		return -1;
	}
	*ret_id = sqlite3_column_int64(c->claim, 0);
	while ((rc = sqlite3_step(c->claim)) == SQLITE_ROW)
		;
	sqlite3_reset(c->claim);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int release(struct claim_db *c, int64_t id)
{
	int rc;

	sqlite3_bind_int64(c->release, 1, id);
	rc = sqlite3_step(c->release);
	sqlite3_reset(c->release);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void bench_sqlite_claim(const struct bench_opts *o)
{
	struct bench_budget bud = bench_budget_for(o, 20000, 2.0);
	struct bench_result r = { .name = "sqlite_claim" };
	uint64_t *samples = calloc(bud.ops, sizeof(*samples));
	char dir[96], path[128], note[200];
	struct claim_db c;
	uint64_t start, deadline;
	size_t n = 0;
	int err = 0;

	if (!bench_wanted("sqlite_claim"))
		goto out_free;
	snprintf(dir, sizeof(dir), "%s/vfpool-bench-sqlite.XXXXXX", bench_journal_fs());
	if (!samples || !mkdtemp(dir)) {
		bench_error("sqlite_claim: %s", samples ? strerror(errno) : "out of memory");
		goto out_free;
	}
	snprintf(path, sizeof(path), "%s/claims.db", dir);
	if (db_open(&c, path, BENCH_SIM_PFS * BENCH_SIM_VFS) == 0) {
		int64_t id;

		for (size_t i = 0; i < bud.ops / 10 && !err; i++)
			err = claim(&c, "bench-vm/nic0", &id) || release(&c, id);
		start = bench_now_ns();
		deadline = start + bud.cap_ns;
		while (n < bud.ops && !err) {
			uint64_t t0 = bench_now_ns();

			err = claim(&c, "bench-vm/nic0", &id) || release(&c, id);
			samples[n++] = bench_now_ns() - t0;
			if ((n & 63) == 0 && bench_now_ns() > deadline)
				break;
		}
		if (err) {
			bench_error("sqlite_claim: %s", sqlite3_errmsg(c.db));
		} else {
			r.ops_per_s = (double)n * 1e9 / (double)(bench_now_ns() - start);
			bench_percentiles(samples, n, &r);
			snprintf(note, sizeof(note),
				 "SQLite %s, WAL, synchronous=FULL, %u VFs, one transaction per claim "
				 "and per release, on %s (the journal's file system)",
				 sqlite3_libversion(), BENCH_SIM_PFS * BENCH_SIM_VFS, bench_journal_fs());
			r.note = note;
			bench_emit(&r);
		}
	}
	db_close(&c);
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
out_free:
	free(samples);
}
