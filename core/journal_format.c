/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/crc32c.h"
#include "core/journal_format.h"

_Static_assert(sizeof(struct journal_lease) == 168, "journal lease payload is an on-disk layout");

static void put_u16(uint8_t *p, uint16_t v) { memcpy(p, &v, sizeof(v)); }
static void put_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, sizeof(v)); }
static void put_u64(uint8_t *p, uint64_t v) { memcpy(p, &v, sizeof(v)); }
static uint16_t get_u16(const uint8_t *p) { uint16_t v; memcpy(&v, p, sizeof(v)); return v; }
static uint32_t get_u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, sizeof(v)); return v; }
static uint64_t get_u64(const uint8_t *p) { uint64_t v; memcpy(&v, p, sizeof(v)); return v; }

void journal_encode_header(uint8_t *buf)
{
	memset(buf, 0, JOURNAL_HDR_SIZE);
	put_u64(buf, JOURNAL_MAGIC);
	put_u32(buf + 8, JOURNAL_VERSION);
}

/* crc over everything in the record but the crc field itself */
static uint32_t record_crc(const uint8_t *rec, uint32_t payload_len)
{
	uint32_t crc = crc32c(0, rec, 4);

	return crc32c(crc, rec + 8, 4 + (size_t)payload_len);
}

static int encode(enum journal_rec_type type, const void *payload, uint32_t len, uint8_t *buf,
		  size_t cap)
{
	if (cap < JOURNAL_REC_HDR + (size_t)len)
		return -ENOSPC;
	put_u32(buf, len);
	put_u16(buf + 8, (uint16_t)type);
	put_u16(buf + 10, 0);
	memcpy(buf + JOURNAL_REC_HDR, payload, len);
	put_u32(buf + 4, record_crc(buf, len));
	return (int)(JOURNAL_REC_HDR + len);
}

int journal_encode_add(const struct journal_lease *l, uint8_t *buf, size_t cap)
{
	struct journal_lease copy;

	/* padding-free struct, but strings are copied whole: zero what follows each NUL so
	 * the bytes on disk never carry leftovers of older names */
	memset(&copy, 0, sizeof(copy));
	copy.slot = l->slot;
	copy.bound_pid = l->bound_pid;
	copy.generation = l->generation;
	memcpy(copy.pci, l->pci, strnlen(l->pci, sizeof(copy.pci) - 1));
	memcpy(copy.vm, l->vm, strnlen(l->vm, sizeof(copy.vm) - 1));
	memcpy(copy.vnic, l->vnic, strnlen(l->vnic, sizeof(copy.vnic) - 1));
	memcpy(copy.network, l->network, strnlen(l->network, sizeof(copy.network) - 1));
	memcpy(copy.mac, l->mac, sizeof(copy.mac));
	copy.flags = l->flags;
	return encode(JOURNAL_LEASE_ADD, &copy, sizeof(copy), buf, cap);
}

int journal_encode_del(uint32_t slot, uint64_t generation, uint8_t *buf, size_t cap)
{
	uint8_t p[16] = { 0 };

	put_u32(p, slot);
	put_u64(p + 8, generation);
	return encode(JOURNAL_LEASE_DEL, p, sizeof(p), buf, cap);
}

static bool str_ok(const char *s, size_t size, bool required)
{
	return memchr(s, '\0', size) && (!required || s[0]);
}

/* 0, or why the (CRC-valid) payload still cannot be trusted */
static const char *decode(uint16_t type, const uint8_t *p, uint32_t len, struct journal_rec *rec)
{
	memset(rec, 0, sizeof(*rec));
	switch (type) {
	case JOURNAL_LEASE_ADD:
		if (len != sizeof(struct journal_lease))
			return "add record of the wrong size";
		memcpy(&rec->lease, p, sizeof(rec->lease));
		if (!str_ok(rec->lease.pci, sizeof(rec->lease.pci), true) ||
		    !str_ok(rec->lease.vm, sizeof(rec->lease.vm), true) ||
		    !str_ok(rec->lease.vnic, sizeof(rec->lease.vnic), true) ||
		    !str_ok(rec->lease.network, sizeof(rec->lease.network), false))
			return "add record with an unterminated or empty name";
		break;
	case JOURNAL_LEASE_DEL:
		if (len != 16)
			return "delete record of the wrong size";
		rec->lease.slot = get_u32(p);
		rec->lease.generation = get_u64(p + 8);
		if (get_u32(p + 4))
			return "delete record with reserved bytes set";
		break;
	default:
		return "unknown record type";
	}
	if (rec->lease.slot >= JOURNAL_MAX_SLOT)
		return "slot out of range";
	if (rec->lease.generation == 0)
		return "generation 0";
	rec->type = (enum journal_rec_type)type;
	return NULL;
}

static bool all_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

int journal_scan(const void *buf, size_t len, journal_visit_fn visit, void *ctx,
		 struct journal_scan_result *ret)
{
	const uint8_t *b = buf;
	size_t off;

	memset(ret, 0, sizeof(*ret));
	if (len == 0)
		return 0;
	if (len < JOURNAL_HDR_SIZE) {
		ret->stop = -ENODATA;
		ret->why = "header cut short";
		return 0;
	}
	if (get_u64(b) != JOURNAL_MAGIC || get_u32(b + 8) != JOURNAL_VERSION || get_u32(b + 12)) {
		ret->stop = -EBADMSG;
		ret->why = "not a vfpool journal (header)";
		return 0;
	}
	off = JOURNAL_HDR_SIZE;
	ret->good_bytes = off;
	while (off < len) {
		struct journal_rec rec;
		uint32_t plen;
		const char *why;
		int r;

		if (len - off < JOURNAL_REC_HDR) {
			ret->stop = -ENODATA;
			ret->why = "record header cut short";
			return 0;
		}
		plen = get_u32(b + off);
		/* no record is empty: a zero header followed by zeros only is the unused part of
		 * a journal appended through a mapping (core/journal.c), the clean end */
		if (plen == 0 && all_zero(b + off, len - off))
			return 0;
		if (plen > sizeof(struct journal_lease)) {
			/* no record is that long: a torn length would be caught by the CRC, but
			 * do not go looking for a payload past the end first */
			ret->stop = -EBADMSG;
			ret->why = "record length out of range";
			return 0;
		}
		if (len - off - JOURNAL_REC_HDR < plen) {
			ret->stop = -ENODATA;
			ret->why = "record payload cut short";
			return 0;
		}
		if (record_crc(b + off, plen) != get_u32(b + off + 4)) {
			ret->stop = -EBADMSG;
			ret->why = "crc mismatch";
			return 0;
		}
		why = get_u16(b + off + 10) ? "reserved bytes set"
					    : decode(get_u16(b + off + 8), b + off + JOURNAL_REC_HDR,
						     plen, &rec);
		if (why) {
			ret->stop = -EBADMSG;
			ret->why = why;
			return 0;
		}
		if (visit) {
			r = visit(ctx, &rec);
			if (r < 0)
				return r;
		}
		off += JOURNAL_REC_HDR + plen;
		ret->good_bytes = off;
		ret->records++;
	}
	return 0;
}

void journal_live_init(struct journal_live *live)
{
	memset(live, 0, sizeof(*live));
}

void journal_live_fini(struct journal_live *live)
{
	free(live->leases);
	memset(live, 0, sizeof(*live));
}

static int64_t live_pos(const struct journal_live *live, uint32_t slot)
{
	/* linear: compaction keeps the journal within a small multiple of the live set */
	for (uint32_t i = 0; i < live->n; i++)
		if (live->leases[i].slot == slot)
			return i;
	return -ENOENT;
}

const struct journal_lease *journal_live_find(const struct journal_live *live, uint32_t slot)
{
	int64_t pos = live_pos(live, slot);

	return pos < 0 ? NULL : &live->leases[pos];
}

int journal_live_apply(void *ctx, const struct journal_rec *rec)
{
	struct journal_live *live = ctx;
	int64_t pos = live_pos(live, rec->lease.slot);

	if (rec->type == JOURNAL_LEASE_DEL) {
		if (pos >= 0 && live->leases[pos].generation == rec->lease.generation)
			live->leases[pos] = live->leases[--live->n];
		return 0;
	}
	if (pos >= 0) {
		live->leases[pos] = rec->lease;
		return 0;
	}
	if (live->n == live->cap) {
		uint32_t cap = live->cap ? 2 * live->cap : 64;
		struct journal_lease *n = realloc(live->leases, (size_t)cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		live->leases = n;
		live->cap = cap;
	}
	live->leases[live->n++] = rec->lease;
	return 0;
}
