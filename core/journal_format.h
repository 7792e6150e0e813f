/* SPDX-License-Identifier: MIT */
/*
 * The lease journal's on-disk format, and its reader. Pure functions over memory: the
 * file side is core/journal.h; the fuzzer feeds journal_scan arbitrary bytes.
 *
 * File: a 16-byte header (magic "VFPJRNL1", version, zero), then records:
 *   u32 len      payload bytes
 *   u32 crc      CRC32C of len, type, reserved and the payload (everything but itself)
 *   u16 type     enum journal_rec_type
 *   u16 reserved zero
 *   payload      fixed layout per type, host byte order (the journal never leaves the host)
 * The reader stops at the first record that is cut short (a torn tail: the daemon died
 * mid-write) or fails its CRC or its checks (corruption); nothing after it is trusted.
 */
#ifndef VFPOOL_CORE_JOURNAL_FORMAT_H
#define VFPOOL_CORE_JOURNAL_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/layout.h"

#define JOURNAL_MAGIC      UINT64_C(0x314c4e524a504656) /* "VFPJRNL1" little-endian */
#define JOURNAL_VERSION    1u
#define JOURNAL_HDR_SIZE   16u
#define JOURNAL_REC_HDR    12u
#define JOURNAL_MAX_SLOT   (1u << 24) /* 256 PFs x 65536 VFs */

enum journal_rec_type {
	JOURNAL_LEASE_ADD = 1,
	JOURNAL_LEASE_DEL = 2,
};

/* A lease as the journal keeps it: what a restart needs to give it back. */
struct journal_lease {
	uint32_t slot;      /* VF record index in the state segment */
	int32_t bound_pid;  /* 0: not bound to a process */
	uint64_t generation;
	char pci[VFPOOL_PCI_ADDR_MAX]; /* the VF it named: a slot may hold another VF later */
	char vm[VFPOOL_VM_ID_MAX];
	char vnic[VFPOOL_VNIC_ID_MAX];
	char network[VFPOOL_NETWORK_MAX];
	uint8_t mac[6];
	uint16_t flags;     /* VFPOOL_LEASE_F_* */
};

struct journal_rec {
	enum journal_rec_type type;
	struct journal_lease lease; /* DEL: only slot and generation */
};

#define JOURNAL_ADD_SIZE (JOURNAL_REC_HDR + sizeof(struct journal_lease))
#define JOURNAL_DEL_SIZE (JOURNAL_REC_HDR + 16u)

/* Writes the file header into buf (JOURNAL_HDR_SIZE bytes). */
void journal_encode_header(uint8_t *buf);
/* Encode one record into buf (cap bytes); return its size, or -ENOSPC. */
int journal_encode_add(const struct journal_lease *l, uint8_t *buf, size_t cap);
int journal_encode_del(uint32_t slot, uint64_t generation, uint8_t *buf, size_t cap);

struct journal_scan_result {
	uint64_t good_bytes; /* end of the last intact record: where appending resumes */
	uint64_t records;    /* intact records */
	int stop;            /* 0: clean end; -ENODATA: torn tail; -EBADMSG: corrupt */
	const char *why;     /* for a stop: static text ("crc mismatch", ...) */
};

/* Called per intact record, in order; a negative return stops the scan with it. */
typedef int (*journal_visit_fn)(void *ctx, const struct journal_rec *rec);

/* Reads records from buf. Always fills *ret (the scan itself cannot fail); returns the
 * visitor's negative error if it stopped the scan, else 0. An empty buffer is a new
 * journal (clean, good_bytes 0); a bad header is corrupt at offset 0. */
int journal_scan(const void *buf, size_t len, journal_visit_fn visit, void *ctx,
		 struct journal_scan_result *ret);

/* The leases alive after a sequence of records: ADD makes a slot's lease live (replacing
 * what it held), DEL removes it if the generation matches. */
struct journal_live {
	struct journal_lease *leases;
	uint32_t n, cap;
};

void journal_live_init(struct journal_live *live);
void journal_live_fini(struct journal_live *live);
/* Applies one record; -ENOMEM. A visitor for journal_scan (ctx = the live set). */
int journal_live_apply(void *live, const struct journal_rec *rec);
const struct journal_lease *journal_live_find(const struct journal_live *live, uint32_t slot);

#endif
