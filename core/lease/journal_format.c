/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/array.h"
#include "core/lease/crc32c.h"
#include "core/lease/journal_format.h"

/*
 * Version 2 payloads, offsets within the payload (the record header is 12 bytes, so the
 * record offset is 12 more). The order is what keeps the record magic out of every
 * 8-aligned word inside a record (journal_format.h): see the column on the right.
 *
 * ADD (version 1, 208 bytes)
 *    0 u32 slot
 *    4 u16 lease flags           record word 16: flags, reserved (zero) -> not the magic
 *    6 u16 reserved, zero
 *    8 u32 owner uid
 *   12 i32 bound pid             record word 24: pid < 2^22, its top byte is zero
 *   16 u8  mac[6]
 *   22 u16 reserved, zero        record word 32: mac[4..5], zero, zero
 *   24 u64 generation            record word 40: generation < 2^56, its top byte is zero
 *   32 pci[16], 48 vm[64], 112 vnic[32], 144 network[32], 176 profile[32]
 *                                string bytes and zero padding: never 0xa5 or 0xb7
 * DEL (version 1, 16 bytes): 0 u32 slot, 4 u32 reserved (zero), 8 u64 generation
 * GEN (version 1, 8 bytes):  0 u64 the highest generation that may have been handed out
 */
#define ADD_SLOT     0u
#define ADD_FLAGS    4u
#define ADD_RSV0     6u
#define ADD_OWNER    8u
#define ADD_PID      12u
#define ADD_MAC      16u
#define ADD_RSV1     22u
#define ADD_GEN      24u
#define ADD_PCI      32u
#define ADD_VM       (ADD_PCI + VFPOOL_PCI_ADDR_MAX)
#define ADD_VNIC     (ADD_VM + VFPOOL_VM_ID_MAX)
#define ADD_NETWORK  (ADD_VNIC + VFPOOL_VNIC_ID_MAX)
#define ADD_PROFILE  (ADD_NETWORK + VFPOOL_NETWORK_MAX)
_Static_assert(ADD_PROFILE + VFPOOL_NETWORK_MAX == JOURNAL_ADD_PAYLOAD, "ADD payload layout");
_Static_assert(JOURNAL_ADD_PAYLOAD % 8 == 0 && JOURNAL_DEL_PAYLOAD % 8 == 0 &&
	       JOURNAL_GEN_PAYLOAD % 8 == 0, "payloads are 8-byte multiples");
_Static_assert((JOURNAL_REC_HDR + JOURNAL_REC_TRAILER) % 8 == 0, "records are 8-byte multiples");
_Static_assert(JOURNAL_HDR_SIZE % 8 == 0, "the first record is 8-aligned");

/* Version 1: the record header was u32 len, u32 crc (of everything but itself), u16 type,
 * u16 reserved; the ADD payload this struct, byte for byte. */
#define V1_REC_HDR 12u
struct v1_lease {
	uint32_t slot;
	int32_t bound_pid;
	uint64_t generation;
	char pci[VFPOOL_PCI_ADDR_MAX];
	char vm[VFPOOL_VM_ID_MAX];
	char vnic[VFPOOL_VNIC_ID_MAX];
	char network[VFPOOL_NETWORK_MAX];
	uint8_t mac[6];
	uint16_t flags;
};
_Static_assert(sizeof(struct v1_lease) == 168, "version 1 lease payload is an on-disk layout");

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
	put_u32(buf + 12, crc32c(0, buf, 12));
}

/* over the record's offset, its header and its payload */
static uint32_t record_crc(const uint8_t *rec, uint32_t payload_len, uint64_t off)
{
	uint8_t o[8];

	put_u64(o, off);
	return crc32c(crc32c(0, o, sizeof(o)), rec, JOURNAL_REC_HDR + (size_t)payload_len);
}

/* A record with room for its payload; the caller fills the payload, then seal() */
static uint8_t *open_record(enum journal_rec_type type, uint32_t len, uint8_t *buf, size_t cap)
{
	if (cap < JOURNAL_REC_SIZE((size_t)len))
		return NULL;
	memset(buf, 0, JOURNAL_REC_SIZE((size_t)len));
	put_u32(buf, JOURNAL_REC_MAGIC);
	put_u16(buf + 4, (uint16_t)type);
	put_u16(buf + 6, 1);
	put_u32(buf + 8, len);
	return buf + JOURNAL_REC_HDR;
}

static int seal(uint8_t *buf, uint32_t len, uint64_t off)
{
	put_u32(buf + JOURNAL_REC_HDR + len, record_crc(buf, len, off));
	return (int)JOURNAL_REC_SIZE(len);
}

/* Strings are copied whole but for the last byte, which stays the NUL: struct
 * journal_lease's fields are zero past their NUL (journal_format.h), so the bytes after it
 * are zero on disk too, and no field is scanned for its end on the serve path. */
static void put_str(uint8_t *p, const char *s, size_t size)
{
	memcpy(p, s, size - 1);
}

int journal_encode_add(const struct journal_lease *l, uint64_t off, uint8_t *buf, size_t cap)
{
	uint8_t *p = open_record(JOURNAL_LEASE_ADD, JOURNAL_ADD_PAYLOAD, buf, cap);

	if (!p)
		return -ENOSPC;
	put_u32(p + ADD_SLOT, l->slot);
	put_u16(p + ADD_FLAGS, l->flags);
	put_u32(p + ADD_OWNER, l->owner_uid);
	put_u32(p + ADD_PID, (uint32_t)l->bound_pid);
	memcpy(p + ADD_MAC, l->mac, sizeof(l->mac));
	put_u64(p + ADD_GEN, l->generation);
	put_str(p + ADD_PCI, l->pci, VFPOOL_PCI_ADDR_MAX);
	put_str(p + ADD_VM, l->vm, VFPOOL_VM_ID_MAX);
	put_str(p + ADD_VNIC, l->vnic, VFPOOL_VNIC_ID_MAX);
	put_str(p + ADD_NETWORK, l->network, VFPOOL_NETWORK_MAX);
	put_str(p + ADD_PROFILE, l->profile, VFPOOL_NETWORK_MAX);
	return seal(buf, JOURNAL_ADD_PAYLOAD, off);
}

int journal_encode_del(uint32_t slot, uint64_t generation, uint64_t off, uint8_t *buf,
		       size_t cap)
{
	uint8_t *p = open_record(JOURNAL_LEASE_DEL, JOURNAL_DEL_PAYLOAD, buf, cap);

	if (!p)
		return -ENOSPC;
	put_u32(p, slot);
	put_u64(p + 8, generation);
	return seal(buf, JOURNAL_DEL_PAYLOAD, off);
}

int journal_encode_gen(uint64_t high, uint64_t off, uint8_t *buf, size_t cap)
{
	uint8_t *p = open_record(JOURNAL_GEN_MARK, JOURNAL_GEN_PAYLOAD, buf, cap);

	if (!p)
		return -ENOSPC;
	put_u64(p, high);
	return seal(buf, JOURNAL_GEN_PAYLOAD, off);
}

/* What the daemon accepts as a name (core/model/request.c): letters, digits, "._:@-" */
static bool ident_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == ':' || c == '@' || c == '-';
}

/* NUL-terminated, name characters up to it, zeros after it */
static bool str_ok(const uint8_t *s, size_t size, bool required)
{
	size_t n = 0;

	while (n < size && s[n])
		if (!ident_char(s[n++]))
			return false;
	if (n == size || (required && n == 0))
		return false;
	for (size_t i = n; i < size; i++)
		if (s[i])
			return false;
	return true;
}

static bool all_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static const char *check_lease(const struct journal_lease *l)
{
	if (l->slot >= JOURNAL_MAX_SLOT)
		return "slot out of range";
	if (l->generation == 0 || l->generation >= JOURNAL_MAX_GEN)
		return "generation out of range";
	if (l->bound_pid < 0 || l->bound_pid >= JOURNAL_MAX_PID)
		return "bound pid out of range";
	return NULL;
}

/* 0, or why the (CRC-valid) version 2 payload still cannot be trusted. An unknown type is
 * no error: rec->type stays 0. */
static const char *decode_v2(uint16_t type, const uint8_t *p, uint32_t len, struct journal_rec *rec)
{
	struct journal_lease *l = &rec->lease;

	switch (type) {
	case JOURNAL_LEASE_ADD:
		if (len < JOURNAL_ADD_PAYLOAD)
			return "add record too short";
		if (get_u16(p + ADD_RSV0) || get_u16(p + ADD_RSV1))
			return "add record with reserved bytes set";
		if (!str_ok(p + ADD_PCI, VFPOOL_PCI_ADDR_MAX, true) ||
		    !str_ok(p + ADD_VM, VFPOOL_VM_ID_MAX, true) ||
		    !str_ok(p + ADD_VNIC, VFPOOL_VNIC_ID_MAX, true) ||
		    !str_ok(p + ADD_NETWORK, VFPOOL_NETWORK_MAX, false) ||
		    !str_ok(p + ADD_PROFILE, VFPOOL_NETWORK_MAX, false))
			return "add record with a malformed name";
		l->slot = get_u32(p + ADD_SLOT);
		l->flags = get_u16(p + ADD_FLAGS);
		l->owner_uid = get_u32(p + ADD_OWNER);
		l->bound_pid = (int32_t)get_u32(p + ADD_PID);
		memcpy(l->mac, p + ADD_MAC, sizeof(l->mac));
		l->generation = get_u64(p + ADD_GEN);
		memcpy(l->pci, p + ADD_PCI, sizeof(l->pci));
		memcpy(l->vm, p + ADD_VM, sizeof(l->vm));
		memcpy(l->vnic, p + ADD_VNIC, sizeof(l->vnic));
		memcpy(l->network, p + ADD_NETWORK, sizeof(l->network));
		memcpy(l->profile, p + ADD_PROFILE, sizeof(l->profile));
		break;
	case JOURNAL_LEASE_DEL:
		if (len < JOURNAL_DEL_PAYLOAD)
			return "delete record too short";
		if (get_u32(p + 4))
			return "delete record with reserved bytes set";
		l->slot = get_u32(p);
		l->generation = get_u64(p + 8);
		break;
	case JOURNAL_GEN_MARK:
		if (len < JOURNAL_GEN_PAYLOAD)
			return "generation record too short";
		l->generation = get_u64(p);
		break;
	default:
		return NULL;
	}
	rec->type = (enum journal_rec_type)type;
	return check_lease(l);
}

enum rec_verdict { REC_OK, REC_CUT, REC_BAD };

/* The version 2 record at off: REC_OK with *rec and *ret_size, REC_CUT when it runs past
 * the end (or its header does), REC_BAD with *ret_why. */
static enum rec_verdict read_v2(const uint8_t *b, size_t len, uint64_t base, size_t off,
				struct journal_rec *rec, size_t *ret_size, const char **ret_why)
{
	uint32_t plen;
	const char *why;

	memset(rec, 0, sizeof(*rec));
	if (len - off < JOURNAL_REC_HDR)
		return REC_CUT;
	if (get_u32(b + off) != JOURNAL_REC_MAGIC) {
		*ret_why = "record magic missing";
		return REC_BAD;
	}
	plen = get_u32(b + off + 8);
	if (plen > JOURNAL_PAYLOAD_MAX || plen % 8) {
		*ret_why = "record length out of range";
		return REC_BAD;
	}
	if (len - off < JOURNAL_REC_SIZE((size_t)plen))
		return REC_CUT;
	if (record_crc(b + off, plen, base + off) != get_u32(b + off + JOURNAL_REC_HDR + plen)) {
		*ret_why = "crc mismatch";
		return REC_BAD;
	}
	if (get_u16(b + off + 6) == 0) {
		*ret_why = "payload version 0";
		return REC_BAD;
	}
	why = decode_v2(get_u16(b + off + 4), b + off + JOURNAL_REC_HDR, plen, rec);
	if (why) {
		*ret_why = why;
		return REC_BAD;
	}
	rec->offset = base + off;
	*ret_size = JOURNAL_REC_SIZE((size_t)plen);
	return REC_OK;
}

/* The next 8-aligned offset after off where an intact record starts, or len */
static size_t resync(const uint8_t *b, size_t len, uint64_t base, size_t off)
{
	for (size_t p = off + 8; p + JOURNAL_REC_HDR <= len; p += 8) {
		struct journal_rec rec;
		const char *why;
		size_t size;

		if (get_u32(b + p) == JOURNAL_REC_MAGIC &&
		    read_v2(b, len, base, p, &rec, &size, &why) == REC_OK)
			return p;
	}
	return len;
}

/* The next 8-aligned offset in (p, end) holding the record magic, or end */
static size_t next_magic(const uint8_t *b, size_t p, size_t end)
{
	for (p += 8; p + 4 <= end; p += 8)
		if (get_u32(b + p) == JOURNAL_REC_MAGIC)
			return p;
	return end;
}

/* What can be read from a damaged ADD or DEL, none of it verified: only sane values */
static void name_damaged(const uint8_t *rec, size_t avail, struct journal_damage *d)
{
	const uint8_t *p = rec + JOURNAL_REC_HDR;

	if (d->type == JOURNAL_LEASE_DEL && avail >= JOURNAL_DEL_SIZE && !get_u32(p + 4)) {
		d->slot = get_u32(p);
		d->generation = get_u64(p + 8);
		d->named = d->slot < JOURNAL_MAX_SLOT && d->generation &&
			   d->generation < JOURNAL_MAX_GEN;
		return;
	}
	if (d->type != JOURNAL_LEASE_ADD || avail < JOURNAL_REC_HDR + ADD_PROFILE)
		return;
	if (!str_ok(p + ADD_VM, VFPOOL_VM_ID_MAX, true) ||
	    !str_ok(p + ADD_VNIC, VFPOOL_VNIC_ID_MAX, true))
		return;
	d->named = true;
	d->slot = get_u32(p + ADD_SLOT);
	d->generation = get_u64(p + ADD_GEN);
	memcpy(d->vm, p + ADD_VM, sizeof(d->vm));
	memcpy(d->vnic, p + ADD_VNIC, sizeof(d->vnic));
}

static void note_damage(struct journal_scan_result *ret, const uint8_t *b, size_t off,
			size_t end, bool header_ok)
{
	struct journal_damage *d;

	ret->lost++;
	ret->lost_bytes += end - off;
	if (ret->n_damage == JOURNAL_DAMAGE_KEEP)
		return;
	d = &ret->damage[ret->n_damage++];
	memset(d, 0, sizeof(*d));
	d->offset = off;
	d->bytes = end - off;
	if (header_ok) {
		d->type = get_u16(b + off + 4);
		name_damaged(b + off, end - off, d);
	}
}

/* A damaged record at p with an intact magic and a sane length: its size, else 0 */
static size_t header_size(const uint8_t *b, size_t p, size_t end)
{
	uint32_t plen;

	if (end - p < JOURNAL_REC_HDR || get_u32(b + p) != JOURNAL_REC_MAGIC)
		return 0;
	plen = get_u32(b + p + 8);
	return plen <= JOURNAL_PAYLOAD_MAX && plen % 8 == 0 ? JOURNAL_REC_SIZE((size_t)plen) : 0;
}

/* The last record of the file at p, damaged: is it a write the daemon did not finish? Cut
 * short by the end of the file, or its trailer (written last) still zero with only zeros
 * after it (a mapped journal's unused part). Such a record was never acknowledged. */
static bool torn_at(const uint8_t *b, size_t p, size_t end)
{
	size_t size;

	if (end - p < JOURNAL_REC_HDR)
		return end - p < 4 || get_u32(b + p) == JOURNAL_REC_MAGIC;
	size = header_size(b, p, end);
	if (!size)
		return false;
	if (end - p < size)
		return true;
	return all_zero(b + p + size - JOURNAL_REC_TRAILER, JOURNAL_REC_TRAILER) &&
	       all_zero(b + p + size, end - p - size);
}

/* The stretch [off, end) holds no intact record: count the damaged records in it, each as
 * far as its own header says (up to the next magic when the header is gone or its length
 * overshoots). tail: the stretch runs to the end of the file, so zeros at its end are the
 * unused part of a mapped journal and its last record may be torn rather than damaged. */
static void account(struct journal_scan_result *ret, const uint8_t *b, size_t off, size_t end,
		    bool tail)
{
	size_t p = off;

	while (p < end) {
		size_t size, next;

		if (tail && all_zero(b + p, end - p))
			return;
		if (tail && torn_at(b, p, end)) {
			ret->torn = true;
			return;
		}
		size = header_size(b, p, end);
		next = next_magic(b, p, end);
		if (size && p + size < next)
			next = p + size; /* the next record lost its magic too */
		note_damage(ret, b, p, next, size != 0);
		p = next;
	}
}

static int scan_v2(const uint8_t *b, size_t len, uint64_t base, size_t off, journal_visit_fn visit,
		   void *ctx, struct journal_scan_result *ret)
{
	ret->good_bytes = base + off;
	while (off < len) {
		struct journal_rec rec;
		const char *why = NULL;
		size_t size, next;
		int r;

		switch (read_v2(b, len, base, off, &rec, &size, &why)) {
		case REC_OK:
			if (rec.type == 0) {
				ret->unknown++;
			} else if (visit) {
				r = visit(ctx, &rec);
				if (r < 0)
					return r;
			}
			if (rec.type)
				ret->records++;
			off += size;
			ret->good_bytes = base + off;
			continue;
		case REC_CUT:
		case REC_BAD:
			break;
		}
		next = resync(b, len, base, off);
		account(ret, b, off, next, next == len);
		if (ret->lost && !ret->why)
			ret->why = why ? why : "record cut short";
		off = next;
	}
	if (ret->lost) {
		ret->stop = -EBADMSG;
	} else if (ret->torn) {
		ret->stop = -ENODATA;
		ret->why = "last record cut short";
	}
	return 0;
}

int journal_scan_records(const void *buf, size_t len, uint64_t base, journal_visit_fn visit,
			 void *ctx)
{
	struct journal_scan_result *res = calloc(1, sizeof(*res));
	int r;

	if (!res)
		return -ENOMEM;
	r = scan_v2(buf, len, base, 0, visit, ctx, res);
	free(res);
	return r;
}

/* A named damaged ADD is superseded by an intact record after it for its slot that ended
 * it (DEL of its generation) or replaced it (ADD of a later one). */
static int mark_superseded(void *ctx, const struct journal_rec *rec)
{
	struct journal_scan_result *ret = ctx;

	for (uint32_t i = 0; i < ret->n_damage; i++) {
		struct journal_damage *d = &ret->damage[i];

		if (!d->named || d->type != JOURNAL_LEASE_ADD || rec->offset < d->offset ||
		    rec->lease.slot != d->slot)
			continue;
		if ((rec->type == JOURNAL_LEASE_DEL && rec->lease.generation == d->generation) ||
		    (rec->type == JOURNAL_LEASE_ADD && rec->lease.generation > d->generation))
			d->superseded = true;
	}
	return 0;
}

static void find_superseded(const uint8_t *b, size_t len, struct journal_scan_result *ret)
{
	struct journal_scan_result *again;
	bool any = false;

	for (uint32_t i = 0; i < ret->n_damage; i++)
		any |= ret->damage[i].named && ret->damage[i].type == JOURNAL_LEASE_ADD;
	if (!any)
		return;
	again = calloc(1, sizeof(*again));
	if (!again)
		return; /* then nothing is said to be superseded: the safe side */
	/* the intact records are the same ones the first pass found */
	scan_v2(b, len, 0, JOURNAL_HDR_SIZE, mark_superseded, ret, again);
	free(again);
}

/* ---- version 1 --------------------------------------------------------------------- */

static uint32_t v1_crc(const uint8_t *rec, uint32_t payload_len)
{
	return crc32c(crc32c(0, rec, 4), rec + 8, 4 + (size_t)payload_len);
}

static const char *decode_v1(uint16_t type, const uint8_t *p, uint32_t len, struct journal_rec *rec)
{
	struct v1_lease v;
	struct journal_lease *l = &rec->lease;

	memset(rec, 0, sizeof(*rec));
	switch (type) {
	case JOURNAL_LEASE_ADD:
		if (len != sizeof(v))
			return "add record of the wrong size";
		memcpy(&v, p, sizeof(v));
		if (!memchr(v.pci, 0, sizeof(v.pci)) || !v.pci[0] ||
		    !memchr(v.vm, 0, sizeof(v.vm)) || !v.vm[0] ||
		    !memchr(v.vnic, 0, sizeof(v.vnic)) || !v.vnic[0] ||
		    !memchr(v.network, 0, sizeof(v.network)))
			return "add record with an unterminated or empty name";
		l->slot = v.slot;
		l->bound_pid = v.bound_pid;
		l->generation = v.generation;
		l->owner_uid = JOURNAL_OWNER_UNKNOWN;
		l->flags = v.flags;
		memcpy(l->mac, v.mac, sizeof(l->mac));
		/* the strings as written, up to their NUL (what follows it was never checked) */
		memcpy(l->pci, v.pci, strlen(v.pci));
		memcpy(l->vm, v.vm, strlen(v.vm));
		memcpy(l->vnic, v.vnic, strlen(v.vnic));
		memcpy(l->network, v.network, strlen(v.network));
		break;
	case JOURNAL_LEASE_DEL:
		if (len != 16)
			return "delete record of the wrong size";
		if (get_u32(p + 4))
			return "delete record with reserved bytes set";
		l->slot = get_u32(p);
		l->generation = get_u64(p + 8);
		break;
	default:
		return "unknown record type";
	}
	rec->type = (enum journal_rec_type)type;
	return check_lease(l);
}

/* Version 1 records carry no magic: the reader stops at the first bad one, and all that
 * follows it counts as one lost stretch (how many records it held cannot be known). */
static int scan_v1(const uint8_t *b, size_t len, journal_visit_fn visit, void *ctx,
		   struct journal_scan_result *ret)
{
	size_t off = JOURNAL_HDR_SIZE;

	ret->good_bytes = off;
	while (off < len) {
		struct journal_rec rec;
		uint32_t plen = 0;
		const char *why = NULL;
		bool cut = false;
		int r;

		if (len - off < V1_REC_HDR) {
			why = "record header cut short";
			cut = true;
		} else {
			plen = get_u32(b + off);
			if (plen == 0 && all_zero(b + off, len - off))
				return 0; /* the unused part of a mapped journal */
			if (plen > sizeof(struct v1_lease))
				why = "record length out of range";
			else if (len - off - V1_REC_HDR < plen)
				cut = (why = "record payload cut short") != NULL;
			else if (v1_crc(b + off, plen) != get_u32(b + off + 4))
				why = "crc mismatch";
			else if (get_u16(b + off + 10))
				why = "reserved bytes set";
			else
				why = decode_v1(get_u16(b + off + 8), b + off + V1_REC_HDR, plen,
						&rec);
		}
		if (why) {
			if (cut) {
				ret->torn = true;
				ret->stop = -ENODATA;
			} else {
				note_damage(ret, b, off, len, false);
				ret->stop = -EBADMSG;
			}
			ret->why = why;
			return 0;
		}
		rec.offset = off;
		if (visit) {
			r = visit(ctx, &rec);
			if (r < 0)
				return r;
		}
		off += V1_REC_HDR + plen;
		ret->good_bytes = off;
		ret->records++;
	}
	return 0;
}

/* ---- the file ---------------------------------------------------------------------- */

int journal_scan(const void *buf, size_t len, journal_visit_fn visit, void *ctx,
		 struct journal_scan_result *ret)
{
	const uint8_t *b = buf;
	uint32_t version;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (len == 0)
		return 0;
	if (len < JOURNAL_HDR_SIZE) {
		/* a header cut short: nothing was ever acknowledged from this file */
		ret->torn = true;
		ret->stop = -ENODATA;
		ret->why = "header cut short";
		return 0;
	}
	version = get_u32(b + 8);
	if (get_u64(b) == JOURNAL_MAGIC && version == JOURNAL_VERSION_1 && get_u32(b + 12) == 0) {
		ret->version = JOURNAL_VERSION_1;
		return scan_v1(b, len, visit, ctx, ret);
	}
	if (get_u64(b) == JOURNAL_MAGIC && get_u32(b + 12) == crc32c(0, b, 12)) {
		if (version != JOURNAL_VERSION) {
			ret->version = version;
			ret->stop = -EBADMSG;
			ret->why = "journal written by a newer vfpoold";
			return -EPROTONOSUPPORT;
		}
		ret->version = JOURNAL_VERSION;
		r = scan_v2(b, len, 0, JOURNAL_HDR_SIZE, visit, ctx, ret);
		if (!r)
			find_superseded(b, len, ret);
		return r;
	}
	/* a damaged header: the records say what they are (a version 1 file whose header was
	 * hit loses what its reader cannot resynchronise: everything) */
	ret->header_damaged = true;
	ret->version = JOURNAL_VERSION;
	r = scan_v2(b, len, 0, JOURNAL_HDR_SIZE, visit, ctx, ret);
	if (!r)
		find_superseded(b, len, ret);
	ret->stop = -EBADMSG;
	if (!ret->why || !ret->lost)
		ret->why = "header damaged";
	return r;
}

/* ---- the live set ------------------------------------------------------------------ */

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
	int64_t pos;

	if (rec->lease.generation > live->gen_high)
		live->gen_high = rec->lease.generation;
	if (rec->type == JOURNAL_GEN_MARK)
		return 0;
	pos = live_pos(live, rec->lease.slot);
	if (rec->type == JOURNAL_LEASE_DEL) {
		if (pos >= 0 && live->leases[pos].generation == rec->lease.generation)
			live->leases[pos] = live->leases[--live->n];
		return 0;
	}
	if (pos >= 0) {
		live->leases[pos] = rec->lease;
		return 0;
	}
	if (array_reserve(live->leases, live->cap, live->n + 1, 64) < 0)
		return -ENOMEM;
	live->leases[live->n++] = rec->lease;
	return 0;
}
