/* SPDX-License-Identifier: MIT */
/*
 * The lease journal's reader against hostile bytes, two ways.
 *
 * Raw (any input not starting with 'S'): the bytes are a journal file. The reader never
 * overruns, always says why it stopped, and hands out only leases that pass its checks.
 *
 * Structured (input "S..."): the input describes records the daemon could write (names in
 * the daemon's character set, generations below 2^40, pids below PID_MAX_LIMIT) and up to
 * three bit flips. The records are encoded as the journal would be, the bits flipped, and
 * the file read back. Resynchronisation must never invent a record (every record read is
 * one that was encoded, at the offset it was encoded at) and never drop an undamaged one
 * (every record no flip touched is read); without flips everything is read, nothing lost.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/lease/journal_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_RECS 24
#define MAX_FLIPS 3

struct input {
	const uint8_t *p;
	size_t left;
};

static uint64_t take(struct input *in, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes; i++) {
		v = v << 8 | (in->left ? *in->p : 0);
		if (in->left) {
			in->p++;
			in->left--;
		}
	}
	return v;
}

static void take_name(struct input *in, char *out, size_t size, bool required)
{
	static const char set[] = "abcdefghijklmnopqrstuvwxyz"
				  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:@-";
	size_t n = (size_t)take(in, 1) % size;

	memset(out, 0, size);
	if (required && n == 0)
		n = 1;
	for (size_t i = 0; i < n; i++)
		out[i] = set[take(in, 1) % (sizeof(set) - 1)];
}

struct encoded {
	struct journal_rec rec;
	size_t start, end;
	bool flipped;
	bool seen;
};

struct check {
	struct encoded *recs;
	unsigned n;
};

static bool same(const struct journal_rec *a, const struct journal_rec *b)
{
	if (a->type != b->type || a->offset != b->offset ||
	    a->lease.generation != b->lease.generation)
		return false;
	if (a->type == JOURNAL_GEN_MARK)
		return true;
	if (a->lease.slot != b->lease.slot)
		return false;
	if (a->type == JOURNAL_LEASE_DEL)
		return true;
	return memcmp(&a->lease, &b->lease, sizeof(a->lease)) == 0;
}

static int visit(void *ctx, const struct journal_rec *rec)
{
	struct check *c = ctx;

	for (unsigned i = 0; i < c->n; i++) {
		if (same(&c->recs[i].rec, rec)) {
			c->recs[i].seen = true;
			return 0;
		}
	}
	__builtin_trap(); /* a record nobody encoded */
}

static void structured(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct encoded recs[MAX_RECS];
	struct journal_scan_result res;
	struct check c = { recs, 0 };
	unsigned n = 1 + (unsigned)take(&in, 1) % MAX_RECS, flips;
	size_t cap = JOURNAL_HDR_SIZE + MAX_RECS * JOURNAL_ADD_SIZE, off = JOURNAL_HDR_SIZE;
	uint8_t *buf = malloc(cap);

	if (!buf)
		return;
	journal_encode_header(buf);
	memset(recs, 0, sizeof(recs));
	for (unsigned i = 0; i < n; i++) {
		struct journal_rec *r = &recs[i].rec;
		struct journal_lease *l = &r->lease;
		int w;

		r->type = (enum journal_rec_type)(1 + take(&in, 1) % 3);
		r->offset = off;
		l->generation = 1 + take(&in, 5) % ((UINT64_C(1) << 40) - 1);
		if (r->type != JOURNAL_GEN_MARK)
			l->slot = (uint32_t)take(&in, 3) % JOURNAL_MAX_SLOT;
		if (r->type == JOURNAL_LEASE_ADD) {
			l->bound_pid = (int32_t)(take(&in, 3) % JOURNAL_MAX_PID);
			l->owner_uid = (uint32_t)take(&in, 4);
			l->flags = (uint16_t)take(&in, 2);
			for (unsigned k = 0; k < 6; k++)
				l->mac[k] = (uint8_t)take(&in, 1);
			take_name(&in, l->pci, sizeof(l->pci), true);
			take_name(&in, l->vm, sizeof(l->vm), true);
			take_name(&in, l->vnic, sizeof(l->vnic), true);
			take_name(&in, l->network, sizeof(l->network), false);
			take_name(&in, l->profile, sizeof(l->profile), false);
			w = journal_encode_add(l, off, buf + off, cap - off);
		} else if (r->type == JOURNAL_LEASE_DEL) {
			w = journal_encode_del(l->slot, l->generation, off, buf + off, cap - off);
		} else {
			w = journal_encode_gen(l->generation, off, buf + off, cap - off);
		}
		if (w <= 0)
			__builtin_trap();
		recs[i].start = off;
		off += (size_t)w;
		recs[i].end = off;
		c.n++;
	}
	flips = (unsigned)take(&in, 1) % (MAX_FLIPS + 1);
	for (unsigned f = 0; f < flips; f++) {
		size_t at = (size_t)take(&in, 2) % off;

		buf[at] ^= (uint8_t)(1u << (take(&in, 1) % 8));
		for (unsigned i = 0; i < n; i++)
			if (at >= recs[i].start && at < recs[i].end)
				recs[i].flipped = true;
	}
	journal_scan(buf, off, visit, &c, &res);
	if (res.good_bytes > off || (res.stop && !res.why))
		__builtin_trap();
	for (unsigned i = 0; i < n; i++)
		if (!recs[i].flipped && !recs[i].seen)
			__builtin_trap(); /* an undamaged record was dropped */
	if (flips == 0 && (res.lost || res.stop || res.records != n))
		__builtin_trap();
	free(buf);
}

static void raw(const uint8_t *data, size_t size)
{
	struct journal_live live;
	struct journal_scan_result res;

	journal_live_init(&live);
	journal_scan(data, size, journal_live_apply, &live, &res);
	if (res.good_bytes > size || (res.stop && !res.why) || res.n_damage > JOURNAL_DAMAGE_KEEP ||
	    res.n_damage > res.lost)
		__builtin_trap();
	for (uint32_t i = 0; i < res.n_damage; i++)
		if (res.damage[i].offset >= size ||
		    res.damage[i].bytes > size - res.damage[i].offset)
			__builtin_trap();
	for (uint32_t i = 0; i < live.n; i++)
		if (!live.leases[i].generation || live.leases[i].slot >= JOURNAL_MAX_SLOT ||
		    !memchr(live.leases[i].vm, 0, sizeof(live.leases[i].vm)))
			__builtin_trap();
	journal_live_fini(&live);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size && data[0] == 'S')
		structured(data + 1, size - 1);
	else
		raw(data, size);
	return 0;
}
