/* SPDX-License-Identifier: MIT */
/* The daemon's half of one client's ring segment. */
#ifndef VFPOOL_CORE_CLIENT_RING_H
#define VFPOOL_CORE_CLIENT_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/model/engine.h"
#include "shm/layout.h"
#include "shm/ring.h"

struct client_ring {
	struct vfpool_ring_hdr *hdr;
	size_t size;
	int fd; /* sealed memfd, handed to the client */
	struct vfpool_sqe *sqes;
	struct vfpool_cqe *cqes;
	struct ring_cons sq;
	struct ring_prod cq;
	uint32_t sq_entries, cq_entries;
	uint32_t deferred; /* completions the engine kept: each holds one CQ slot until posted
			    * (an early allocation may hold two) */
	bool violated; /* indices out of range: the client is disconnected */
	char refused[96]; /* why client_ring_serve failed: the daemon logs it when it disconnects */
	/* The last serve stopped on requests only the client can move on (an unfinished chain,
	 * completions without room): the indices it decided on. Until one of them moves, the
	 * loop may sleep on this client (client_ring_prepare_sleep). */
	bool stalled;
	uint32_t stall_sq_tail, stall_cq_head;
	/* the doorbell: the client's indices the last client_ring_prepare_sleep decided on,
	 * those when the loop armed the wait, and how many wakes in a row found them unchanged
	 * (client_ring_bell_rang) */
	uint32_t sleep_sq_tail, sleep_cq_head;
	uint32_t bell_sq_tail, bell_cq_head;
	uint32_t idle_bells;
	int32_t peer_pid; /* the client's SO_PEERCRED pid: a bind to pid 0 binds to it */
	uint32_t peer_uid; /* its SO_PEERCRED uid: every request it sends is this uid's
			    * (client_ring_attach: REQUEST_UID_NONE until the daemon sets it) */
	bool peer_admin;   /* root or the admin group (core/connection.c): may change any lease */
};

/* Creates the segment in a memfd sealed against shrinking and growing, so a client cannot
 * truncate it under the daemon (which would fault on access), its pages reserved first:
 * -ENOSPC or -ENOMEM when shmem cannot give them, instead of a SIGBUS later. */
int client_ring_create(uint32_t client_id, uint32_t sq_entries, uint32_t cq_entries,
		       struct client_ring *ret_ring);
/* Sets up the segment on caller-given memory (tests use malloc'd memory). */
int client_ring_format(void *mem, size_t size, uint32_t client_id, uint32_t sq_entries,
		       uint32_t cq_entries);
size_t client_ring_size(uint32_t sq_entries, uint32_t cq_entries);
void client_ring_attach(struct client_ring *r, void *mem, size_t size);
void client_ring_destroy(struct client_ring *r);

/* Serves up to max requests: copy each entry out once, validate, serve, complete. Stops
 * early when the completion ring is full, counting the slots held for deferred completions
 * as full (the client not reaping only stalls itself). A chain (VFPOOL_REQ_F_LINK) is
 * served whole, once its last entry is published and its completions fit; max may be
 * exceeded to finish a chain (by at most VFPOOL_CHAIN_MAX - 1). A chain whose completions
 * could never fit the completion ring is refused: each entry gets an error completion when
 * one each fits (early allocations counted twice), else the client is. Requests the engine
 * keeps complete later through sink. Returns the number served; -EPROTO when the client's
 * indices are out of range, -EMSGSIZE when a request can never be served (a chain longer
 * than either ring): r->refused says why, and the client is to be disconnected. */
int client_ring_serve(struct client_ring *r, struct engine *e, struct completion_sink *sink,
		      unsigned max);

/* Publishes a deferred completion at the next CQ slot (the one held for it) and releases
 * the hold. The caller wakes the client if client_ring_client_sleeps says so. -EPROTO when
 * the client's cq_head is out of range (the completion is dropped, the hold released). */
int client_ring_post_deferred(struct client_ring *r, const struct vfpool_cqe *cqe);

/* Requests waiting, or -EPROTO. */
int64_t client_ring_pending(const struct client_ring *r);

/* Wakes the client if it sleeps on completions. Returns true when a futex wake is due
 * (the caller issues it, through io_uring). */
bool client_ring_client_sleeps(struct client_ring *r);

/* Daemon about to sleep: announce it, then re-check. Returns the doorbell value to wait
 * on, or -EAGAIN when there is work: requests the last serve did not stop on (new ones, or
 * ones the client made room for since). Requests that wait on the client are no work: it
 * rings once it publishes or reaps (libvfpool does). */
int64_t client_ring_prepare_sleep(struct client_ring *r);
void client_ring_awake(struct client_ring *r);

/* A client may ring its doorbell (the futex word sq_bell) as often as it likes. The loop
 * arms the wait with the value client_ring_prepare_sleep returned and says so
 * (client_ring_bell_armed: the indices that call decided on are kept), and reports each
 * wake (client_ring_bell_rang): a wake with the indices unchanged told the daemon nothing.
 * After CLIENT_RING_IDLE_BELLS such wakes in a row the doorbell is a storm:
 * client_ring_bell_rang returns true and the loop rests the doorbell for a while (the ring
 * is still polled whenever the loop is awake), so a storm costs a bounded number of wakes
 * instead of a CPU. A client that publishes or reaps in between never trips it. */
#define CLIENT_RING_IDLE_BELLS 8
void client_ring_bell_armed(struct client_ring *r);
bool client_ring_bell_rang(struct client_ring *r);

#endif
