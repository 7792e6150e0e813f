/* SPDX-License-Identifier: MIT */
/* Decoding a request entry. The input is the daemon's private copy of a ring entry (taken
 * once, so the client cannot change it between check and use); the output is a request
 * whose every field has been validated. */
#ifndef VFPOOL_CORE_REQUEST_H
#define VFPOOL_CORE_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/layout.h"

struct request {
	uint64_t user_data;
	enum vfpool_opcode op;
	uint32_t flags;
	int32_t numa_node;
	uint64_t generation;
	char vm_id[VFPOOL_VM_ID_MAX];
	char vnic_id[VFPOOL_VNIC_ID_MAX];
	char network[VFPOOL_NETWORK_MAX];
	char pin_pci[VFPOOL_PCI_ADDR_MAX];
	uint8_t mac[6];
	char profile[VFPOOL_NETWORK_MAX]; /* "" unless VFPOOL_REQ_F_PROFILE */
	int32_t bind_pid; /* > 0: release the lease when this process exits */
	/* Who asks: never from shared memory. The daemon sets them from the connection's
	 * SO_PEERCRED after decoding (request_decode leaves REQUEST_UID_NONE, which owns
	 * nothing); requests the daemon makes itself are root's (0). */
	uint32_t uid;
	bool admin; /* root or the admin group: may change any lease */
	/* Set by request_decode for the (VM, vNIC) pair: the ids' lengths and hashes
	 * (core/model/lease_key.h), so nothing after the decode scans them. false: a request
	 * built by hand (the daemon's own, tests): the engine keys it itself. */
	bool keyed;
	uint8_t vm_id_len, vnic_id_len;
	uint64_t vm_hash, key_hash;
};

#define REQUEST_UID_NONE (UINT32_MAX - 1) /* no credentials: no rights over any lease */

/* 0, or a negative errno with why (a static string naming the field) set. user_data is
 * always copied, so the error can be completed to the right request; the rest of *ret_req
 * is decoded in place and means nothing after an error. */
int request_decode(const struct vfpool_sqe *copy, struct request *ret_req, const char **ret_why);

/* "dddd:bb:ss.f", lower-case hex, as the kernel names PCI functions. */
bool pci_addr_valid(const char *s);

#endif
