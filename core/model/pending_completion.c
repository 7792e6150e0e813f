/* SPDX-License-Identifier: MIT */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model/pending_completion.h"
#include "core/model/req_stats.h"

#include "core/base/container_of.h"

struct pending_completion *pending_get(struct pending_cache *c, struct completion_sink *sink,
				       struct vfpool_state_hdr *hdr,
				       struct pending_durability *durability, uint8_t op,
				       bool early)
{
	struct pending_completion *p = c->free;

	if (p) {
		c->free = p->free_next;
	} else {
		p = malloc(sizeof(*p));
		if (!p)
			return NULL;
		p->all_next = c->all;
		c->all = p;
	}
	/* the cqe and the reason are written before they are read (pending_issued, fail) */
	p->sink = sink;
	p->hdr = hdr;
	p->durability = durability;
	p->slot = 0;
	p->generation = 0;
	p->op = op;
	p->gates = PENDING_ISSUE;
	p->early = early;
	p->first_owed = false;
	p->refused = false;
	p->err = 0;
	p->err_kind = VFPOOL_ERR_OTHER;
	p->why[0] = '\0';
	p->link.prev = p->link.next = NULL;
	p->cache = c;
	p->free_next = NULL;
	return p;
}

void pending_put(struct pending_completion *p)
{
	pending_queue_remove(p);
	p->free_next = p->cache->free;
	p->cache->free = p;
}

void pending_cache_fini(struct pending_cache *c)
{
	while (c->all) {
		struct pending_completion *p = c->all;

		c->all = p->all_next;
		free(p);
	}
	c->free = NULL;
}

/* ---- the queue the durability side keeps --------------------------------------------- */

void pending_queue_init(struct pending_queue *q)
{
	q->head.prev = q->head.next = &q->head;
}

void pending_queue_remove(struct pending_completion *p)
{
	struct pending_link *l = &p->link;

	if (!l->next)
		return;
	l->prev->next = l->next;
	l->next->prev = l->prev;
	l->prev = l->next = NULL;
}

void pending_queue_push(struct pending_queue *q, struct pending_completion *p)
{
	struct pending_link *l = &p->link;

	pending_queue_remove(p);
	l->next = &q->head;
	l->prev = q->head.prev;
	q->head.prev->next = l;
	q->head.prev = l;
}

struct pending_completion *pending_queue_pop(struct pending_queue *q)
{
	struct pending_completion *p;

	if (q->head.next == &q->head)
		return NULL;
	p = container_of(q->head.next, struct pending_completion, link);
	pending_queue_remove(p);
	return p;
}

void pending_queue_splice(struct pending_queue *to, struct pending_queue *from)
{
	struct pending_link *first = from->head.next, *last = from->head.prev;

	if (first == &from->head)
		return;
	first->prev = to->head.prev;
	to->head.prev->next = first;
	last->next = &to->head;
	to->head.prev = last;
	pending_queue_init(from);
}

/* ---- the gates ------------------------------------------------------------------------ */

/* A failed completion names only the request: the lease it was about is not the client's */
static void failed_cqe(const struct pending_completion *p, struct vfpool_cqe *c, uint32_t flags)
{
	memset(c, 0, sizeof(*c));
	c->user_data = p->cqe.user_data;
	c->flags = flags;
	c->res = p->err;
	snprintf(c->message, sizeof(c->message), "%s", p->why);
}

/* The first completion of an early allocation: the lease is reserved and durable, or the
 * journal's refusal; VFPOOL_CQE_F_MORE announces the final one either way. */
static void first_cqe(const struct pending_completion *p, struct vfpool_cqe *c)
{
	if (p->refused) {
		failed_cqe(p, c, VFPOOL_CQE_F_MORE);
		return;
	}
	*c = p->cqe;
	c->flags |= VFPOOL_CQE_F_MORE;
}

static void final_cqe(const struct pending_completion *p, struct vfpool_cqe *c)
{
	if (p->err)
		failed_cqe(p, c, 0);
	else
		*c = p->cqe;
}

static void fail(struct pending_completion *p, int res, enum vfpool_err_kind kind,
		 const char *why)
{
	if (p->err)
		return; /* the first failure is the one the client hears */
	p->err = res;
	p->err_kind = kind;
	snprintf(p->why, sizeof(p->why), "%s", why ? why : "");
}

/* Posts what the gates opened so far allow. After the final completion p is back in the
 * cache: the caller must not touch it. */
static void deliver(struct pending_completion *p)
{
	struct completion_sink *sink = p->sink;
	struct vfpool_cqe c;

	if (p->gates & PENDING_ISSUE)
		return; /* the engine completes it inline (pending_issued) */
	if (p->first_owed && !(p->gates & PENDING_DURABLE)) {
		p->first_owed = false;
		first_cqe(p, &c);
		sink->post(sink, &c);
	}
	if (p->gates)
		return;
	final_cqe(p, &c);
	if (c.res < 0)
		req_stats_errors(p->hdr, p->err_kind, 1);
	pending_put(p);
	sink->post(sink, &c);
}

void pending_configured(struct pending_completion *p, int res, const char *why)
{
	p->gates &= (uint8_t)~PENDING_CONFIGURED;
	if (res < 0) {
		fail(p, res, VFPOOL_ERR_CONFIG, why);
		/* the undo staged its own change: the failure is told once that is durable
		 * too (inside the serve, the engine decides: the lease never reached the
		 * journal) */
		if (!(p->gates & PENDING_ISSUE) && p->durability &&
		    p->durability->hold(p->durability, p))
			p->gates |= PENDING_DURABLE;
	}
	deliver(p);
}

void pending_durable(struct pending_completion *p, int res, const char *why)
{
	p->gates &= (uint8_t)~PENDING_DURABLE;
	pending_queue_remove(p);
	if (res < 0) {
		p->refused = true;
		fail(p, res, VFPOOL_ERR_OTHER, why);
	}
	deliver(p);
}

struct engine_served pending_issued(struct pending_completion *p, struct vfpool_cqe *cqe)
{
	p->gates &= (uint8_t)~PENDING_ISSUE;
	if (!p->gates) {
		/* every gate opened while the engine served: one completion, now */
		if (p->err) {
			p->cqe.user_data = cqe->user_data;
			failed_cqe(p, cqe, 0);
		}
		if (cqe->res < 0)
			req_stats_errors(p->hdr,
					 p->err ? p->err_kind : req_err_kind(p->op, cqe->res), 1);
		pending_put(p);
		return (struct engine_served){ .now = 1, .later = 0 };
	}
	p->cqe = *cqe;
	if (p->early && (p->gates & PENDING_CONFIGURED)) {
		if (!(p->gates & PENDING_DURABLE)) {
			/* reserved and durable: told so now, the final one comes later */
			cqe->flags |= VFPOOL_CQE_F_MORE;
			return (struct engine_served){ .now = 1, .later = 1 };
		}
		p->first_owed = true;
		return (struct engine_served){ .now = 0, .later = 2 };
	}
	return (struct engine_served){ .now = 0, .later = 1 };
}
