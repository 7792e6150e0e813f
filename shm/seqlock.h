/* SPDX-License-Identifier: MIT */
/*
 * The state segment's seqlock: one writer (the daemon's loop thread), any number of
 * readers in any process. Readers never block the writer and never write.
 */
#ifndef VFPOOL_SHM_SEQLOCK_H
#define VFPOOL_SHM_SEQLOCK_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)
#define seqlock_cpu_relax() __builtin_ia32_pause()
#else
#define seqlock_cpu_relax() atomic_signal_fence(memory_order_seq_cst)
#endif

static inline void seqlock_write_begin(_Atomic uint64_t *seq)
{
	uint64_t s = atomic_load_explicit(seq, memory_order_relaxed); /* we are the only writer */

	atomic_store_explicit(seq, s + 1, memory_order_relaxed);
	/* release fence: orders the odd sequence before the data stores that follow, pairs
	 * with the reader's acquire fence before its second sequence load */
	atomic_thread_fence(memory_order_release);
}

static inline void seqlock_write_end(_Atomic uint64_t *seq)
{
	uint64_t s = atomic_load_explicit(seq, memory_order_relaxed);

	/* release: the data stores before it are visible to a reader that acquires the even
	 * sequence in seqlock_read_begin */
	atomic_store_explicit(seq, s + 1, memory_order_release);
}

/* Returns the even sequence to pass to seqlock_read_retry; spins while a write is open. */
static inline uint64_t seqlock_read_begin(const _Atomic uint64_t *seq)
{
	uint64_t s;

	/* acquire: pairs with the release store in seqlock_write_end */
	while ((s = atomic_load_explicit(seq, memory_order_acquire)) & 1)
		seqlock_cpu_relax();
	return s;
}

/* Like seqlock_read_begin, but gives up after spins polls of an open write (a writer that
 * died inside its write section never closes it): 0 and *ret_seq, or -EAGAIN. */
static inline int seqlock_read_begin_bounded(const _Atomic uint64_t *seq, unsigned spins,
					     uint64_t *ret_seq)
{
	for (unsigned i = 0; i <= spins; i++) {
		/* acquire: pairs with the release store in seqlock_write_end */
		uint64_t s = atomic_load_explicit(seq, memory_order_acquire);

		if (!(s & 1)) {
			*ret_seq = s;
			return 0;
		}
		seqlock_cpu_relax();
	}
	return -11; /* -EAGAIN, without pulling errno.h into every includer */
}

static inline int seqlock_read_retry(const _Atomic uint64_t *seq, uint64_t start)
{
	/* acquire fence: our data loads complete before the re-check; pairs with the
	 * writer's release fence in seqlock_write_begin, and with the release store of the
	 * header's flags outside any write section (state_seg_destroy: STALE | EXITED) */
	atomic_thread_fence(memory_order_acquire);
	return atomic_load_explicit(seq, memory_order_relaxed) != start;
}

/* Copies n bytes that the writer may be changing. The copy is racy by design: it is only
 * used when seqlock_read_retry says nothing changed. Not instrumented for TSan for that
 * reason (the sequence check is the synchronization TSan cannot see). */
void seqlock_copy(void *dst, const void *src, size_t n);

#endif
