/* SPDX-License-Identifier: MIT */
/*
 * Request statistics in the state header, for ops tools (vfpoolctl metrics, snapshot):
 * failed requests by kind (enum vfpool_err_kind) and a histogram of the service time of
 * one request in VFPOOL_LAT_SAMPLE. Counters only the daemon's loop thread writes;
 * readers copy them under the seqlock, so every bump is a relaxed atomic.
 */
#ifndef VFPOOL_CORE_REQ_STATS_H
#define VFPOOL_CORE_REQ_STATS_H

#include <stdint.h>

#include "shm/layout.h"

/* The kind of a failed completion of request op (enum vfpool_opcode) with result res < 0,
 * as the engine completed it. Requests that failed to decode are VFPOOL_ERR_REJECTED and
 * failures the VF-configuration executor posts later are VFPOOL_ERR_CONFIG: their callers
 * say so themselves, the errno alone cannot. */
enum vfpool_err_kind req_err_kind(unsigned op, int res);

/* Counts n failed requests of one kind: the total (hdr->errors) and the kind's counter, so
 * the kinds always add up to the total. */
void req_stats_errors(struct vfpool_state_hdr *hdr, enum vfpool_err_kind kind, uint64_t n);

/* The histogram bucket of a service time: i while ns < 2^(i+7), the last one beyond. */
unsigned req_latency_bucket(uint64_t ns);
/* Counts one sampled service time. */
void req_stats_latency(struct vfpool_state_hdr *hdr, uint64_t ns);

#endif
