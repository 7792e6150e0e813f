/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/conn_summary.h"

int conn_summary_create(uint32_t n_slots, struct conn_summary *ret_s)
{
	struct conn_summary s = { .fd = -1 };
	void *mem;
	int r;

	s.n_words = (n_slots + 63) / 64;
	if (s.n_words == 0)
		s.n_words = 1;
	s.size = (sizeof(struct vfpool_summary_hdr) +
		  (size_t)s.n_words * sizeof(struct vfpool_summary_word) + 4095) & ~(size_t)4095;
	s.carry = calloc(s.n_words, sizeof(*s.carry));
	if (!s.carry)
		return -ENOMEM;
	s.fd = memfd_create("vfpool-summary", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (s.fd < 0) {
		r = -errno;
		goto fail;
	}
	/* as a ring segment: pages taken now, size sealed, so no client can make the daemon
	 * fault on it (core/model/client_ring.c) */
	if (ftruncate(s.fd, (off_t)s.size) < 0 || fallocate(s.fd, 0, 0, (off_t)s.size) < 0 ||
	    fcntl(s.fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		r = -errno;
		goto fail;
	}
	mem = mmap(NULL, s.size, PROT_READ | PROT_WRITE, MAP_SHARED, s.fd, 0);
	if (mem == MAP_FAILED) {
		r = -errno;
		goto fail;
	}
	s.hdr = mem;
	s.hdr->magic = VFPOOL_SUMMARY_MAGIC;
	s.hdr->layout_version = VFPOOL_LAYOUT_VERSION;
	s.hdr->n_words = s.n_words;
	*ret_s = s;
	return 0;
fail:
	if (s.fd >= 0)
		close(s.fd);
	free(s.carry);
	return r;
}

void conn_summary_destroy(struct conn_summary *s)
{
	if (s->hdr)
		munmap(s->hdr, s->size);
	if (s->fd >= 0)
		close(s->fd);
	free(s->carry);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

uint64_t conn_summary_take(struct conn_summary *s, uint32_t w)
{
	_Atomic uint64_t *word = &s->hdr->words[w].bits;
	uint64_t bits = s->carry[w];

	s->carry[w] = 0;
	/* relaxed: a look first, so an idle word costs a read of a shared line, not a write */
	if (atomic_load_explicit(word, memory_order_relaxed) == 0)
		return bits;
	/* acquire: pairs with the client's release fetch_or after its sq_tail (or cq_head)
	 * store (libvfpool: summary_mark), so the serve that follows sees what the bit
	 * announced. A bit set after this exchange stays for the next turn. */
	return bits | atomic_exchange_explicit(word, 0, memory_order_acquire);
}

void conn_summary_carry(struct conn_summary *s, uint32_t slot)
{
	s->carry[slot / 64] |= UINT64_C(1) << (slot % 64);
}

bool conn_summary_sweep_due(struct conn_summary *s)
{
	return ++s->turns % VFPOOL_SUMMARY_SWEEP_TURNS == 0;
}
