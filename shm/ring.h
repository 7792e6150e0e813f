/* SPDX-License-Identifier: MIT */
/*
 * Single-producer single-consumer ring cursors over struct vfpool_ring_hdr indices.
 *
 * Each side keeps its own index privately and only ever stores it to shared memory; it
 * never reads its own index back, because the peer may scribble on it. The peer's index
 * is read with acquire and checked: a distance outside 0..entries is a protocol violation
 * (-EPROTO), reported instead of trusted.
 */
#ifndef VFPOOL_SHM_RING_H
#define VFPOOL_SHM_RING_H

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>

struct ring_prod {
	_Atomic uint32_t *tail;       /* ours, published */
	const _Atomic uint32_t *head; /* the consumer's */
	uint32_t priv_tail;
	uint32_t mask;
};

struct ring_cons {
	_Atomic uint32_t *head;       /* ours, published */
	const _Atomic uint32_t *tail; /* the producer's */
	uint32_t priv_head;
	uint32_t mask;
};

static inline void ring_prod_init(struct ring_prod *p, _Atomic uint32_t *tail,
				  const _Atomic uint32_t *head, uint32_t entries, uint32_t start)
{
	p->tail = tail;
	p->head = head;
	p->priv_tail = start;
	p->mask = entries - 1;
}

static inline void ring_cons_init(struct ring_cons *c, _Atomic uint32_t *head,
				  const _Atomic uint32_t *tail, uint32_t entries, uint32_t start)
{
	c->head = head;
	c->tail = tail;
	c->priv_head = start;
	c->mask = entries - 1;
}

/* Free entries the producer may fill, or -EPROTO. */
static inline int64_t ring_prod_space(const struct ring_prod *p)
{
	/* acquire: pairs with the consumer's release store of head in ring_cons_consume, so
	 * the consumer has finished reading the entries we are about to overwrite */
	uint32_t head = atomic_load_explicit(p->head, memory_order_acquire);
	uint32_t used = p->priv_tail - head;

	if (used > p->mask + 1)
		return -EPROTO;
	return (int64_t)(p->mask + 1 - used);
}

/* Index (masked) of the n-th entry after the private tail. */
static inline uint32_t ring_prod_slot(const struct ring_prod *p, uint32_t n)
{
	return (p->priv_tail + n) & p->mask;
}

static inline void ring_prod_publish(struct ring_prod *p, uint32_t n)
{
	p->priv_tail += n;
	/* release: pairs with the consumer's acquire load of tail in ring_cons_avail, so the
	 * entries written before this store are visible once the new tail is */
	atomic_store_explicit(p->tail, p->priv_tail, memory_order_release);
}

/* Entries ready to consume, or -EPROTO. */
static inline int64_t ring_cons_avail(const struct ring_cons *c)
{
	/* acquire: pairs with the producer's release store in ring_prod_publish */
	uint32_t tail = atomic_load_explicit(c->tail, memory_order_acquire);
	uint32_t n = tail - c->priv_head;

	if (n > c->mask + 1)
		return -EPROTO;
	return n;
}

static inline uint32_t ring_cons_slot(const struct ring_cons *c, uint32_t n)
{
	return (c->priv_head + n) & c->mask;
}

static inline void ring_cons_consume(struct ring_cons *c, uint32_t n)
{
	c->priv_head += n;
	/* release: pairs with the producer's acquire load of head in ring_prod_space; our
	 * reads of the consumed entries happen before the producer may reuse them */
	atomic_store_explicit(c->head, c->priv_head, memory_order_release);
}

#endif
