/* SPDX-License-Identifier: MIT */
/*
 * The lease journal's on-disk format, and its reader. Pure functions over memory: the
 * file side is core/lease/journal.h; the fuzzer feeds journal_scan arbitrary bytes.
 *
 * File (version 2): a 16-byte header, then records.
 *   header: u64 magic "VFPJRNL1", u32 version (2), u32 CRC32C of the 12 bytes before it
 *   record: u32 magic    JOURNAL_REC_MAGIC: every record starts with it, at an offset that
 *                        is a multiple of 8 (records are 8-byte multiples)
 *           u16 type     enum journal_rec_type
 *           u16 version  the payload's layout version (>= 1)
 *           u32 len      payload bytes: a multiple of 8, at most JOURNAL_PAYLOAD_MAX
 *           payload      fixed layout per type, host byte order (the journal never leaves
 *                        the host)
 *           u32 crc      CRC32C of the record's offset in the file, the header and the
 *                        payload: a trailer, written last, so a record cut short by a
 *                        crash has a missing or zero trailer
 * Records are self-delimiting: after a damaged one the reader scans forward (8 bytes at a
 * time) for the next record whose magic, length, CRC and payload check out, and goes on
 * from there; what it skipped is reported record by record (journal_damage) and counted as
 * lost. Damage at the very end that looks like a write the daemon did not finish (cut short,
 * or a zero trailer with only zeros after it) is a torn tail: normal after a crash, never
 * acknowledged, not lost.
 *
 * Why a record cannot be found inside another one: at every 8-aligned offset inside an
 * intact record other than its start the 4 bytes cannot be the record magic (strings are
 * [A-Za-z0-9._:@-] and zero padding, numeric fields are laid out so that an aligned word
 * holds a zero byte or a byte the magic lacks, and the trailer is never 8-aligned), and the
 * CRC covers the record's own offset.
 *
 * Growing the format without breaking it: a type's payload only ever gains fields at its
 * end, in 8-byte units, with its version bumped; a reader takes the fields it knows from a
 * longer payload and ignores the rest, and defaults the fields a shorter (older) payload
 * lacks. Anything that is not an append is a new record type. A record of a type this
 * reader does not know is intact, skipped and counted (journal_scan_result.unknown).
 *
 * Version 1 files (header version 1, records without magic or trailer, leases without owner
 * or profile) are still read: the daemon upgrades them by rewriting the journal.
 */
#ifndef VFPOOL_CORE_JOURNAL_FORMAT_H
#define VFPOOL_CORE_JOURNAL_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/layout.h"

#define JOURNAL_MAGIC       UINT64_C(0x314c4e524a504656) /* "VFPJRNL1" little-endian */
#define JOURNAL_VERSION     2u
#define JOURNAL_VERSION_1   1u
#define JOURNAL_HDR_SIZE    16u
#define JOURNAL_REC_MAGIC   UINT32_C(0x4a52b7a5) /* bytes a5 b7 52 4a */
#define JOURNAL_REC_HDR     12u
#define JOURNAL_REC_TRAILER 4u
#define JOURNAL_PAYLOAD_MAX 1024u
#define JOURNAL_MAX_SLOT    (1u << 24) /* 256 PFs x 65536 VFs */
#define JOURNAL_MAX_PID     (1 << 22)  /* PID_MAX_LIMIT */
#define JOURNAL_MAX_GEN     (UINT64_C(1) << 56)

/* Payload sizes of the current versions, and the records they make. */
#define JOURNAL_ADD_PAYLOAD 208u
#define JOURNAL_DEL_PAYLOAD 16u
#define JOURNAL_GEN_PAYLOAD 8u
#define JOURNAL_REC_SIZE(payload) (JOURNAL_REC_HDR + (payload) + JOURNAL_REC_TRAILER)
#define JOURNAL_ADD_SIZE JOURNAL_REC_SIZE(JOURNAL_ADD_PAYLOAD)
#define JOURNAL_DEL_SIZE JOURNAL_REC_SIZE(JOURNAL_DEL_PAYLOAD)
#define JOURNAL_GEN_SIZE JOURNAL_REC_SIZE(JOURNAL_GEN_PAYLOAD)

/* Generations are reserved in blocks: a GEN record says "up to here may have been handed
 * out" before any generation above the previous mark is, so a restart starts above it. */
#define JOURNAL_GEN_BLOCK 1024u

/* A lease made before owners were journaled (a version 1 journal): anyone may change it,
 * as anyone could when it was made. */
#define JOURNAL_OWNER_UNKNOWN UINT32_MAX

enum journal_rec_type {
	JOURNAL_LEASE_ADD = 1,
	JOURNAL_LEASE_DEL = 2,
	JOURNAL_GEN_MARK = 3, /* generations up to lease.generation may have been handed out */
};

/* A lease as the journal keeps it: what a restart needs to give it back. Its strings are
 * NUL-terminated and zero past the NUL, as the records store them: the encoder copies the
 * fields whole (start from a zeroed struct, as every producer does). */
struct journal_lease {
	uint32_t slot;      /* VF record index in the state segment */
	int32_t bound_pid;  /* 0: not bound to a process */
	uint64_t generation;
	uint32_t owner_uid; /* who made it (JOURNAL_OWNER_UNKNOWN: a version 1 lease) */
	uint16_t flags;     /* VFPOOL_LEASE_F_* */
	uint8_t mac[6];
	char pci[VFPOOL_PCI_ADDR_MAX]; /* the VF it named: a slot may hold another VF later */
	char vm[VFPOOL_VM_ID_MAX];
	char vnic[VFPOOL_VNIC_ID_MAX];
	char network[VFPOOL_NETWORK_MAX];
	char profile[VFPOOL_NETWORK_MAX]; /* the vNIC profile it was made through, or "" */
};

struct journal_rec {
	enum journal_rec_type type;
	uint64_t offset;            /* where the record starts in the file */
	struct journal_lease lease; /* DEL: only slot and generation; GEN: only generation */
};

/* Writes the file header into buf (JOURNAL_HDR_SIZE bytes). */
void journal_encode_header(uint8_t *buf);
/* Encode one record, to be written at file offset off, into buf (cap bytes); return its
 * size, or -ENOSPC. */
int journal_encode_add(const struct journal_lease *l, uint64_t off, uint8_t *buf, size_t cap);
int journal_encode_del(uint32_t slot, uint64_t generation, uint64_t off, uint8_t *buf,
		       size_t cap);
int journal_encode_gen(uint64_t high, uint64_t off, uint8_t *buf, size_t cap);

/* A stretch the reader skipped: one damaged record as far as its header can be trusted. */
struct journal_damage {
	uint64_t offset;
	uint64_t bytes;
	uint16_t type;    /* from its header if the magic is intact (unverified), else 0 */
	bool named;       /* an ADD whose slot, generation and names read sanely, or a DEL's
			   * slot and generation (unverified: the record failed its checks) */
	bool superseded;  /* named, and an intact record after it ended or replaced that lease:
			   * nothing was lost with it */
	uint32_t slot;
	uint64_t generation;
	char vm[VFPOOL_VM_ID_MAX];
	char vnic[VFPOOL_VNIC_ID_MAX];
};

#define JOURNAL_DAMAGE_KEEP 32u

struct journal_scan_result {
	uint32_t version;    /* the file's format version (0: empty or unreadable header) */
	uint64_t good_bytes; /* end of the last intact record: where appending resumes */
	uint64_t records;    /* intact records */
	uint64_t unknown;    /* intact records of a type this reader does not know */
	uint64_t lost;       /* damaged records skipped (counted by their headers) */
	uint64_t lost_bytes;
	bool header_damaged; /* the file header failed its check; records were read anyway */
	bool torn;           /* the last record was cut short: a write the daemon did not finish */
	int stop;            /* 0: clean; -ENODATA: only a torn tail; -EBADMSG: damage */
	const char *why;     /* for a stop: static text about the first damage ("crc mismatch") */
	/* the first JOURNAL_DAMAGE_KEEP damaged records (lost may be more) */
	struct journal_damage damage[JOURNAL_DAMAGE_KEEP];
	uint32_t n_damage;
};

/* Called per intact record, in order; a negative return stops the scan with it. */
typedef int (*journal_visit_fn)(void *ctx, const struct journal_rec *rec);

/* Reads records from buf. Always fills *ret (the scan itself cannot fail); returns the
 * visitor's negative error if it stopped the scan, -EPROTONOSUPPORT for a journal of a
 * newer version than this reader (its header intact: never to be rewritten by us), else 0.
 * An empty buffer is a new journal (clean, good_bytes 0). */
int journal_scan(const void *buf, size_t len, journal_visit_fn visit, void *ctx,
		 struct journal_scan_result *ret);

/* Reads version 2 records without a file header (a write buffer that starts at file
 * offset base): the records the daemon staged. 0, or the visitor's error. */
int journal_scan_records(const void *buf, size_t len, uint64_t base, journal_visit_fn visit,
			 void *ctx);

/* The leases alive after a sequence of records: ADD makes a slot's lease live (replacing
 * what it held), DEL removes it if the generation matches. gen_high: the highest generation
 * any record named or reserved. */
struct journal_live {
	struct journal_lease *leases;
	uint32_t n, cap;
	uint64_t gen_high;
};

void journal_live_init(struct journal_live *live);
void journal_live_fini(struct journal_live *live);
/* Applies one record; -ENOMEM. A visitor for journal_scan (ctx = the live set). */
int journal_live_apply(void *live, const struct journal_rec *rec);
const struct journal_lease *journal_live_find(const struct journal_live *live, uint32_t slot);

#endif
