/* SPDX-License-Identifier: MIT */
/*
 * Client rings and the engine together, against a reference model of who holds what.
 *
 * Three clients share one engine on a small simulated host; each has its own ring segment
 * (malloc'd, set up as the daemon does) and its own VMs ("c<client>-vm<n>"). The fuzz bytes
 * are a script a hostile or unlucky client could run: write entries (allocs, releases, nops,
 * chains; link, pin, generation, MAC, early, bind and unknown flags), scribble on entries,
 * publish, reap, corrupt an index; and the daemon's side: serve a client with a budget, ask
 * whether the loop may sleep. After every serve the model checks
 *  - each completion: a successful alloc got a VF that was free and allocatable (or its
 *    (VM, vNIC)'s own lease again), a successful release ended a lease that (VM, vNIC)
 *    held, a chain succeeded or failed whole, an error changed nothing, and what the model
 *    says must succeed (or fail with a given errno) did;
 *  - the whole host: every VF record, pool bit, lease index entry and per-VM count equals
 *    the model, so no lease of this or any other client changed unless a completion said so;
 *  - the journal: exactly the leases made and ended were handed to the commit, in order;
 *  - the loop: a ring that says "work" gets served, one that says "sleep" has nothing
 *    servable waiting, and a client that reaps everything has every complete chain served
 *    or is refused.
 * Any mismatch aborts with the reason (and the step, for reproducing).
 *
 * Input: 4 header bytes, then ops (run_op). tests/fuzz-corpus/ring_engine_model/gen.py
 * writes the seeds and documents the encoding.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/model/client_ring.h"
#include "core/model/engine.h"
#include "core/model/host.h"
#include "core/model/request.h"
#include "core/model/state_segment.h"
#include "core/model/vm_quota.h"
#include "shm/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_CLIENTS 3
#define N_VMS 4
#define N_VNICS 8
#define MAX_ENTRIES 64 /* ring entries, either ring */
#define MAX_SLOTS 32
#define MAX_JOURNAL 512
#define UNKNOWN_FLAG (1u << 20)
#define DEAD_PID 0x7fffffff /* above any pid_max: never a process */

struct m_lease {
	bool held;
	uint8_t client;
	char vm[VFPOOL_VM_ID_MAX];
	char vnic[VFPOOL_VNIC_ID_MAX];
	char net[VFPOOL_NETWORK_MAX];
	uint8_t mac[6]; /* asked for with the lease; zero: none */
	uint64_t gen;
};

/* Who holds what, by VF slot. */
struct model {
	struct m_lease slot[MAX_SLOTS];
	bool allocatable[MAX_SLOTS]; /* not blocked when the host was formatted */
	uint32_t n_vfs;
	uint32_t quota; /* leases per VM, 0: none */
	uint64_t max_gen;
};

struct client {
	void *mem;
	struct client_ring r;   /* the daemon's half */
	struct ring_prod sq;    /* the client's half */
	struct ring_cons cq;
	uint32_t sq_n, cq_n;
	uint32_t staged;        /* written, not published */
	uint32_t served;        /* entries the model accounted for (free-running SQ index) */
	uint32_t seen;          /* completions the model read (free-running CQ index) */
	uint64_t next_ud;
	bool dead;              /* refused: disconnected */
	bool corrupt;           /* wrote an index out of range: must be refused */
	bool touched;           /* rewrote a published entry since the last serve */
};

struct journal_rec {
	uint32_t slot;
	bool made;
	uint64_t gen;
};

static struct {
	struct host *hosts[2];
	void *state;
	size_t state_size;
	struct engine e;
	struct engine_commit commit;
	struct completion_sink sink;
	struct model m;
	struct client c[N_CLIENTS];
	struct journal_rec journal[MAX_JOURNAL], expect[MAX_JOURNAL];
	unsigned n_journal, n_expect;
	const uint8_t *in;
	size_t in_len, pos;
	unsigned step;
	pid_t self;
	bool trace; /* RING_ENGINE_MODEL_TRACE set: every completion on stderr, for a reproducer */
} F;

__attribute__((format(printf, 1, 2), noreturn)) static void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ring_engine_model: step %u: ", F.step);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static uint8_t next_byte(void)
{
	return F.pos < F.in_len ? F.in[F.pos++] : 0;
}

/* ---- the engine's surroundings ------------------------------------------------------- */

/* The journal: records every change staged; with no durability side, a change is durable
 * once staged and every request completes now. */
static void journal_stage(struct engine_commit *cm, struct engine *e, const struct request *req,
			  uint32_t slot, bool made, uint64_t generation)
{
	const struct vfpool_shm_vf *vf = &state_vfs(e->hdr)[slot];

	(void)cm;
	if (F.n_journal == MAX_JOURNAL)
		fail("journal records overflow");
	if (slot >= F.m.n_vfs)
		fail("journal record for VF %u of %u", slot, F.m.n_vfs);
	/* a lease made is journaled with its record written; an ended one after it is cleared */
	if (made && (vf->state != VFPOOL_VF_LEASED || strcmp(vf->vm_id, req->vm_id) ||
		     strcmp(vf->vnic_id, req->vnic_id)))
		fail("journaled lease %s/%s is not VF %u's record", req->vm_id, req->vnic_id, slot);
	if (!made && vf->state != VFPOOL_VF_FREE)
		fail("journaled release of VF %u whose record is still leased", slot);
	F.journal[F.n_journal++] = (struct journal_rec){
		.slot = slot, .made = made, .gen = made ? vf->lease_gen : generation };
}

static void sink_post(struct completion_sink *sink, const struct vfpool_cqe *cqe)
{
	(void)sink;
	fail("completion %llu posted later, with nothing that keeps requests",
	     (unsigned long long)cqe->user_data);
}

static void expect_journal(uint32_t slot, bool made, uint64_t gen)
{
	if (F.n_expect == MAX_JOURNAL)
		fail("expected journal overflow");
	F.expect[F.n_expect++] = (struct journal_rec){ .slot = slot, .made = made, .gen = gen };
}

/* ---- the model ----------------------------------------------------------------------- */

static int m_find(const struct model *m, const char *vm, const char *vnic)
{
	for (uint32_t s = 0; s < m->n_vfs; s++)
		if (m->slot[s].held && !strcmp(m->slot[s].vm, vm) && !strcmp(m->slot[s].vnic, vnic))
			return (int)s;
	return -1;
}

static uint32_t m_vm_count(const struct model *m, const char *vm)
{
	uint32_t n = 0;

	for (uint32_t s = 0; s < m->n_vfs; s++)
		n += m->slot[s].held && !strcmp(m->slot[s].vm, vm);
	return n;
}

static int m_free_slot(const struct model *m)
{
	for (uint32_t s = 0; s < m->n_vfs; s++)
		if (m->allocatable[s] && !m->slot[s].held)
			return (int)s;
	return -1;
}

/* A free VF on a PF of NUMA node numa (what VFPOOL_REQ_F_NUMA_REQUIRED accepts), or -1. */
static int m_free_slot_on(const struct model *m, int32_t numa)
{
	for (uint32_t s = 0; s < m->n_vfs; s++)
		if (m->allocatable[s] && !m->slot[s].held &&
		    state_pfs(F.e.hdr)[state_vfs(F.e.hdr)[s].pf_index].numa_node == numa)
			return (int)s;
	return -1;
}

static int slot_of_pci(const char *pci)
{
	for (uint32_t s = 0; s < F.m.n_vfs; s++)
		if (!strcmp(state_vfs(F.e.hdr)[s].pci_addr, pci))
			return (int)s;
	return -1;
}

/* What an alloc the engine decoded must get, on model m: 0, or the errno. *ret_slot: the
 * VF (a held lease's, a pinned one, or any free one), for a caller that applies it. */
static int m_predict_alloc(const struct model *m, const struct request *req, int *ret_slot)
{
	int s = m_find(m, req->vm_id, req->vnic_id);

	*ret_slot = s;
	/* a held lease is found again only by a request that asks for nothing else */
	if (s >= 0) {
		if (strcmp(m->slot[s].net, req->network))
			return -EEXIST;
		if ((req->flags & VFPOOL_REQ_F_PIN) && slot_of_pci(req->pin_pci) != s)
			return -EEXIST;
		if ((req->flags & VFPOOL_REQ_F_MAC) && memcmp(m->slot[s].mac, req->mac, 6))
			return -EEXIST;
		return 0;
	}
	if (m->quota && m_vm_count(m, req->vm_id) >= m->quota)
		return -EDQUOT;
	if (req->flags & VFPOOL_REQ_F_PIN) {
		s = slot_of_pci(req->pin_pci);
		*ret_slot = s;
		if (s < 0)
			return -ENODEV;
		if (m->slot[s].held)
			return -EBUSY;
		return m->allocatable[s] ? 0 : -EPERM;
	}
	s = (req->flags & VFPOOL_REQ_F_NUMA_REQUIRED) && req->numa_node >= 0
		    ? m_free_slot_on(m, req->numa_node) : m_free_slot(m);
	*ret_slot = s;
	return s < 0 ? -ENOSPC : 0;
}

static int m_predict_release(const struct model *m, const struct request *req)
{
	int s = m_find(m, req->vm_id, req->vnic_id);

	if (s < 0)
		return -ENOENT;
	if ((req->flags & VFPOOL_REQ_F_GEN) && m->slot[s].gen != req->generation)
		return -ESTALE;
	return 0;
}

/* A request the engine served with success: checks it against the model and applies it. */
static void m_apply(struct client *c, const struct request *req, const struct vfpool_cqe *cqe)
{
	struct model *m = &F.m;
	int s = m_find(m, req->vm_id, req->vnic_id);
	uint32_t slot = cqe->vf_slot;

	switch (req->op) {
	case VFPOOL_OP_ALLOC:
		if (slot >= m->n_vfs)
			fail("alloc %s/%s got VF %u of %u", req->vm_id, req->vnic_id, slot, m->n_vfs);
		if (strcmp(cqe->pci_addr, state_vfs(F.e.hdr)[slot].pci_addr))
			fail("alloc %s/%s: completion's PCI address is not VF %u's", req->vm_id,
			     req->vnic_id, slot);
		if (cqe->flags & VFPOOL_CQE_F_EXISTING) {
			if (s != (int)slot || m->slot[s].gen != cqe->generation ||
			    strcmp(m->slot[s].net, req->network))
				fail("alloc %s/%s: 'existing' lease VF %u gen %llu is not the one held",
				     req->vm_id, req->vnic_id, slot,
				     (unsigned long long)cqe->generation);
			return;
		}
		if (s >= 0)
			fail("alloc %s/%s: a second lease (VF %u) while it holds VF %d", req->vm_id,
			     req->vnic_id, slot, s);
		if (m->slot[slot].held)
			fail("alloc %s/%s: VF %u is held by %s/%s", req->vm_id, req->vnic_id, slot,
			     m->slot[slot].vm, m->slot[slot].vnic);
		if (!m->allocatable[slot])
			fail("alloc %s/%s: VF %u is blocked", req->vm_id, req->vnic_id, slot);
		if ((req->flags & VFPOOL_REQ_F_PIN) && slot_of_pci(req->pin_pci) != (int)slot)
			fail("alloc %s/%s pinned to %s got VF %u", req->vm_id, req->vnic_id,
			     req->pin_pci, slot);
		if (m->quota && m_vm_count(m, req->vm_id) >= m->quota)
			fail("alloc %s/%s beyond the quota of %u", req->vm_id, req->vnic_id, m->quota);
		if (cqe->generation <= m->max_gen)
			fail("alloc %s/%s: generation %llu not above %llu", req->vm_id, req->vnic_id,
			     (unsigned long long)cqe->generation, (unsigned long long)m->max_gen);
		m->max_gen = cqe->generation;
		m->slot[slot] = (struct m_lease){ .held = true, .client = (uint8_t)(c - F.c),
						  .gen = cqe->generation };
		memcpy(m->slot[slot].vm, req->vm_id, sizeof(m->slot[slot].vm));
		memcpy(m->slot[slot].vnic, req->vnic_id, sizeof(m->slot[slot].vnic));
		memcpy(m->slot[slot].net, req->network, sizeof(m->slot[slot].net));
		if (req->flags & VFPOOL_REQ_F_MAC)
			memcpy(m->slot[slot].mac, req->mac, sizeof(m->slot[slot].mac));
		expect_journal(slot, true, cqe->generation);
		return;
	case VFPOOL_OP_RELEASE:
		if (s < 0 || (uint32_t)s != slot)
			fail("release %s/%s succeeded on VF %u; the model has it on %d", req->vm_id,
			     req->vnic_id, slot, s);
		if ((req->flags & VFPOOL_REQ_F_GEN) && m->slot[s].gen != req->generation)
			fail("release %s/%s of generation %llu ended generation %llu", req->vm_id,
			     req->vnic_id, (unsigned long long)req->generation,
			     (unsigned long long)m->slot[s].gen);
		if (cqe->generation != m->slot[s].gen)
			fail("release %s/%s: completion's generation is not the lease's",
			     req->vm_id, req->vnic_id);
		expect_journal(slot, false, m->slot[s].gen);
		memset(&m->slot[s], 0, sizeof(m->slot[s]));
		return;
	default:
		return;
	}
}

/* The host as the engine left it equals the model: records, pool bits, index, quotas. */
static void check_host(unsigned client)
{
	const struct model *m = &F.m;
	uint32_t held = 0;

	if (atomic_load(&F.e.hdr->seq) & 1)
		fail("seqlock left open");
	for (uint32_t s = 0; s < m->n_vfs; s++) {
		const struct vfpool_shm_vf *vf = &state_vfs(F.e.hdr)[s];
		const struct m_lease *l = &m->slot[s];
		uint32_t first = state_pfs(F.e.hdr)[vf->pf_index].vf_first;
		bool taken = pool_is_leased(&F.e.pool.pfs[vf->pf_index], s - first);

		if (!l->held) {
			if (vf->state != VFPOOL_VF_FREE || taken || vf->vm_id[0])
				fail("VF %u: free in the model, but state %u, pool bit %d, record %s/%s",
				     s, vf->state, taken, vf->vm_id, vf->vnic_id);
			continue;
		}
		held++;
		if (vf->state != VFPOOL_VF_LEASED || !taken || strcmp(vf->vm_id, l->vm) ||
		    strcmp(vf->vnic_id, l->vnic) || strcmp(vf->network, l->net) ||
		    vf->lease_gen != l->gen)
			fail("lease of client %u (%s/%s gen %llu) on VF %u changed while client %u "
			     "was served: state %u, pool bit %d, record %s/%s gen %llu",
			     l->client, l->vm, l->vnic, (unsigned long long)l->gen, s, client,
			     vf->state, taken, vf->vm_id, vf->vnic_id,
			     (unsigned long long)vf->lease_gen);
		if (lease_index_find(F.e.leases, l->vm, l->vnic) != (int64_t)s)
			fail("lease index lost %s/%s (VF %u)", l->vm, l->vnic, s);
		if (vm_quota_count(F.e.quota, l->vm) != m_vm_count(m, l->vm))
			fail("VM %s counts %u leases, the model %u", l->vm,
			     vm_quota_count(F.e.quota, l->vm), m_vm_count(m, l->vm));
	}
	if (lease_index_count(F.e.leases) != held)
		fail("lease index holds %u, the model %u", lease_index_count(F.e.leases), held);
}

static void check_journal(void)
{
	if (F.n_journal != F.n_expect)
		fail("%u journal records for %u lease changes", F.n_journal, F.n_expect);
	for (unsigned i = 0; i < F.n_journal; i++)
		if (memcmp(&F.journal[i], &F.expect[i], sizeof(F.journal[i])))
			fail("journal record %u: VF %u %s gen %llu, expected VF %u %s gen %llu", i,
			     F.journal[i].slot, F.journal[i].made ? "made" : "ended",
			     (unsigned long long)F.journal[i].gen, F.expect[i].slot,
			     F.expect[i].made ? "made" : "ended", (unsigned long long)F.expect[i].gen);
}

/* ---- what the daemon does with a published batch ------------------------------------- */

/* The ring's grouping (core/model/client_ring.c chain_len): up to and including the first entry
 * without the link flag, at most a chain's worth. 0: its end is not published. */
static uint32_t group_len(const struct vfpool_sqe *q, uint32_t i, uint32_t avail)
{
	for (uint32_t k = 1; i + k <= avail; k++)
		if (!(q[i + k - 1].flags & VFPOOL_REQ_F_LINK) || k == VFPOOL_CHAIN_MAX)
			return k;
	return 0;
}

/* Completion slots the group needs: two for each entry that can be an early alloc. */
static uint32_t group_slots(const struct vfpool_sqe *q, uint32_t n)
{
	uint32_t slots = n;

	for (uint32_t k = 0; k < n; k++)
		slots += (q[k].flags & VFPOOL_REQ_F_EARLY) && !(q[k].flags & ~VFPOOL_REQ_F_ALL) &&
			 q[k].opcode == VFPOOL_OP_ALLOC;
	return slots;
}

/* Whether pid is a process, as the kernel says: a scribble can name any pid, and one that
 * happens to exist on this host (pid 1, a kernel thread) is as bindable as our own; a
 * thread that leads no thread group is not a process (pidfd_open refuses it, so does the
 * daemon, and kill(2) would not tell). */
static bool process_exists(int32_t pid)
{
	int fd;

	if (pid <= 0)
		return false;
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* Decodes as the ring does; false for what it refuses before the engine sees it. */
static bool decode(const struct vfpool_sqe *q, struct request *req)
{
	const char *why = NULL;

	if (request_decode(q, req, &why))
		return false;
	if (req->flags & VFPOOL_REQ_F_BIND_PID)
		return req->bind_pid == 0 || process_exists(req->bind_pid);
	return true;
}

static void check_single(struct client *c, const struct vfpool_sqe *q, const struct vfpool_cqe *cqe)
{
	struct request req;
	bool ok = decode(q, &req);
	int want = 0, slot;

	if (cqe->res > 0)
		fail("entry %llu: result %d without a profile", (unsigned long long)q->user_data,
		     cqe->res);
#ifdef VFPOOL_CQE_F_CHAIN
	if (cqe->flags & VFPOOL_CQE_F_CHAIN)
		fail("entry %llu: chain flag on a single request", (unsigned long long)q->user_data);
#endif
	if (!ok) {
		if (cqe->res == 0)
			fail("entry %llu (opcode %u, flags %#x) refused by the decoder was served",
			     (unsigned long long)q->user_data, q->opcode, q->flags);
		return;
	}
	if (req.op == VFPOOL_OP_ALLOC)
		want = m_predict_alloc(&F.m, &req, &slot);
	else if (req.op == VFPOOL_OP_RELEASE)
		want = m_predict_release(&F.m, &req);
	if (cqe->res != want)
		fail("%s %s/%s: result %d (%s), the model says %d",
		     req.op == VFPOOL_OP_ALLOC ? "alloc" : req.op == VFPOOL_OP_RELEASE ? "release" : "nop",
		     req.vm_id, req.vnic_id, cqe->res, cqe->message, want);
	if (cqe->res == 0)
		m_apply(c, &req, cqe);
}

static void check_chain(struct client *c, const struct vfpool_sqe *q, uint32_t n,
			const struct vfpool_cqe *cqe)
{
	struct request req[VFPOOL_CHAIN_MAX];
	bool shaped = group_slots(q, n) <= c->cq_n, pinned = false, twice = false;
	uint32_t failed = 0, causes = 0;

	for (uint32_t k = 0; k < n; k++) {
		if (cqe[k].res > 0)
			fail("chain entry %u: result %d without a profile", k, cqe[k].res);
		failed += cqe[k].res < 0;
#ifdef VFPOOL_CQE_F_CHAIN
		causes += cqe[k].res < 0 && !(cqe[k].flags & VFPOOL_CQE_F_CHAIN);
#endif
		if (!decode(&q[k], &req[k]) || req[k].op != VFPOOL_OP_ALLOC)
			shaped = false;
		if (k + 1 == n && (q[k].flags & VFPOOL_REQ_F_LINK))
			shaped = false; /* a chain's worth, and still linked: longer than allowed */
		pinned |= (req[k].flags & VFPOOL_REQ_F_PIN) != 0;
		/* a vNIC listed twice in one VM request is refused (issue 14) */
		for (uint32_t j = 0; j < k && shaped; j++)
			twice |= strcmp(req[j].vm_id, req[k].vm_id) == 0 &&
				 strcmp(req[j].vnic_id, req[k].vnic_id) == 0;
	}
	if (failed && failed != n)
		fail("chain of %u: %u entries failed, the others were served", n, failed);
	if (failed) {
#ifdef VFPOOL_CQE_F_CHAIN
		if (causes != 1)
			fail("failed chain of %u: %u entries name themselves the cause", n, causes);
#endif
		(void)causes;
		if (shaped && !pinned && !twice) {
			/* the model's answer, entry by entry, on a copy */
			struct model m = F.m;
			int want = 0;

			for (uint32_t k = 0; k < n && !want; k++) {
				int slot;

				want = m_predict_alloc(&m, &req[k], &slot);
				if (!want && m_find(&m, req[k].vm_id, req[k].vnic_id) < 0) {
					m.slot[slot].held = true;
					memcpy(m.slot[slot].vm, req[k].vm_id, sizeof(m.slot[slot].vm));
					memcpy(m.slot[slot].vnic, req[k].vnic_id, sizeof(m.slot[slot].vnic));
					memcpy(m.slot[slot].net, req[k].network, sizeof(m.slot[slot].net));
				}
			}
			if (!want)
				fail("chain of %u allocs failed (%s) though the model has room for it",
				     n, cqe[0].message);
		}
		return;
	}
	if (!shaped)
		fail("chain of %u with a malformed or non-alloc entry was served", n);
	if (twice)
		fail("chain of %u listing a vNIC twice was served", n);
	for (uint32_t k = 0; k < n; k++)
		m_apply(c, &req[k], &cqe[k]);
}

/* Whether refusing the client was right: its head request can never be served. */
static void check_refusal(struct client *c, const struct vfpool_sqe *q, uint32_t avail)
{
	uint32_t n;

	if (c->corrupt)
		return;
	n = group_len(q, 0, avail);
	if (n == 0 && avail == c->sq_n)
		return; /* an unfinished chain fills the request ring: it can never end */
	if (n > c->cq_n)
		return; /* more entries than completion slots: its answer can never fit */
	fail("client %u refused with a servable request at its head (%u of %u entries, rings %u/%u)",
	     (unsigned)(c - F.c), n, avail, c->sq_n, c->cq_n);
}

/* One client_ring_serve and every check after it. Returns what it returned. */
static int serve(struct client *c, unsigned max)
{
	struct vfpool_ring_hdr *h = c->mem;
	struct vfpool_sqe snap[MAX_ENTRIES];
	struct vfpool_cqe cqes[MAX_ENTRIES + VFPOOL_CHAIN_MAX];
	uint32_t avail = atomic_load(&h->sq_tail.v) - c->served;
	int got;

	if (c->dead)
		return -ENOTCONN;
	if (!c->corrupt)
		for (uint32_t k = 0; k < avail; k++)
			snap[k] = c->r.sqes[(c->served + k) & (c->sq_n - 1)];
	F.n_journal = F.n_expect = 0;
	got = client_ring_serve(&c->r, &F.e, &F.sink, max);
	if (atomic_load(&h->cq_tail.v) - c->seen != (got > 0 ? (uint32_t)got : 0))
		fail("client %u: %u completions for %d requests served", (unsigned)(c - F.c),
		     atomic_load(&h->cq_tail.v) - c->seen, got);
	if (got < 0) {
		if (F.trace)
			fprintf(stderr, "step %u client %u: refused: %s\n", F.step,
				(unsigned)(c - F.c), c->r.refused);
		check_refusal(c, snap, avail);
		c->dead = true;
	} else if (got > 0) {
		uint32_t k = 0;

		if (c->corrupt)
			fail("client %u with an index out of range was served", (unsigned)(c - F.c));
		if (atomic_load(&h->sq_head.v) != c->served + (uint32_t)got)
			fail("client %u: sq_head does not account for %d served", (unsigned)(c - F.c),
			     got);
		for (uint32_t i = 0; i < (uint32_t)got; i++) {
			cqes[i] = c->r.cqes[(c->seen + i) & (c->cq_n - 1)];
			if (F.trace)
				fprintf(stderr, "step %u client %u: %llu %s %.*s/%.*s -> %d VF %u gen %llu "
					"flags %#x %s\n", F.step, (unsigned)(c - F.c),
					(unsigned long long)cqes[i].user_data,
					snap[i].opcode == VFPOOL_OP_ALLOC ? "alloc" :
					snap[i].opcode == VFPOOL_OP_RELEASE ? "release" : "other",
					(int)sizeof(snap[i].vm_id), snap[i].vm_id,
					(int)sizeof(snap[i].vnic_id), snap[i].vnic_id,
					cqes[i].res, cqes[i].vf_slot,
					(unsigned long long)cqes[i].generation, cqes[i].flags,
					cqes[i].res ? cqes[i].message : "");
		}
		while (k < (uint32_t)got) {
			uint32_t n = group_len(snap, k, avail);

			if (n == 0 || k + n > (uint32_t)got)
				fail("client %u: part of a chain served (%u of %u from entry %u)",
				     (unsigned)(c - F.c), (uint32_t)got - k, n, k);
			for (uint32_t i = 0; i < n; i++)
				if (cqes[k + i].user_data != snap[k + i].user_data)
					fail("completion %u answers %llu, not entry %llu", k + i,
					     (unsigned long long)cqes[k + i].user_data,
					     (unsigned long long)snap[k + i].user_data);
			if (n == 1 && !(snap[k].flags & VFPOOL_REQ_F_LINK))
				check_single(c, &snap[k], &cqes[k]);
			else
				check_chain(c, &snap[k], n, &cqes[k]);
			k += n;
		}
		c->served += (uint32_t)got;
		c->seen += (uint32_t)got;
	}
	check_host((unsigned)(c - F.c));
	check_journal();
	c->touched = false;
	return got;
}

/* The loop's sleep decision for this client, then a serve: "work" must mean progress, and
 * "sleep" must not leave servable requests behind. */
static void check_sleep(struct client *c)
{
	bool touched = c->touched; /* serve clears it */
	int64_t before, after;
	int got;

	if (c->dead)
		return;
	before = client_ring_prepare_sleep(&c->r);
	client_ring_awake(&c->r);
	got = serve(c, 64);
	if (got < 0)
		return;
	if (before >= 0 && got > 0 && !touched)
		fail("client %u: the loop would sleep with %d servable requests (lost wakeup)",
		     (unsigned)(c - F.c), got);
	if (got > 0)
		return;
	after = client_ring_prepare_sleep(&c->r);
	client_ring_awake(&c->r);
	if (after < 0)
		fail("client %u: requests that cannot be served keep the loop awake (a spin)",
		     (unsigned)(c - F.c));
}

/* ---- what a client does --------------------------------------------------------------- */

static struct vfpool_sqe *stage(struct client *c)
{
	int64_t space;

	if (c->dead || c->corrupt)
		return NULL;
	space = ring_prod_space(&c->sq);
	if (space <= (int64_t)c->staged)
		return NULL;
	return &c->r.sqes[ring_prod_slot(&c->sq, c->staged++)];
}

static void publish(struct client *c, uint32_t n)
{
	if (c->dead || c->corrupt || n == 0)
		return;
	if (n > c->staged)
		n = c->staged;
	ring_prod_publish(&c->sq, n);
	c->staged -= n;
}

static void reap(struct client *c, uint32_t n)
{
	uint32_t unread = c->seen - c->cq.priv_head;

	if (c->dead || c->corrupt)
		return;
	ring_cons_consume(&c->cq, n < unread ? n : unread);
}

/* One entry from three bytes:
 *  t: bits 0-1 op (0, 1 alloc, 2 release, 3 nop); 2 link; 3 pin (alloc) or generation;
 *     4 MAC (x bit 6: multicast); 5 early; 6 bind (x bits 4-5: 0 the client, 1 itself by
 *     pid, else a pid that cannot exist); 7 an unknown flag
 *  v: bits 0-1 VM, 2-4 vNIC, 5 network blue (else red), 6 NUMA preference (bit 7: node)
 *  x: pinned VF slot (mod the host's), generation (bit 0: the held lease's, else x / 2 + 1)
 */
static void fill(struct client *c, struct vfpool_sqe *q, uint8_t t, uint8_t v, uint8_t x,
		 unsigned vm)
{
	unsigned op = t & 3;

	memset(q, 0, sizeof(*q));
	q->user_data = ++c->next_ud;
	q->numa_node = -1;
	q->opcode = op < 2 ? VFPOOL_OP_ALLOC : op == 2 ? VFPOOL_OP_RELEASE : VFPOOL_OP_NOP;
	if (q->opcode != VFPOOL_OP_NOP) {
		snprintf(q->vm_id, sizeof(q->vm_id), "c%u-vm%u", (unsigned)(c - F.c), vm);
		snprintf(q->vnic_id, sizeof(q->vnic_id), "nic%u", (v >> 2) & 7);
	}
	if (q->opcode == VFPOOL_OP_ALLOC) {
		strcpy(q->network, v & 0x20 ? "blue" : "red");
		if (v & 0x40)
			q->numa_node = v >> 7;
	}
	if (t & 4)
		q->flags |= VFPOOL_REQ_F_LINK;
	if ((t & 8) && q->opcode == VFPOOL_OP_ALLOC) {
		q->flags |= VFPOOL_REQ_F_PIN;
		snprintf(q->pin_pci, sizeof(q->pin_pci), "%s",
			 state_vfs(F.e.hdr)[x % F.m.n_vfs].pci_addr);
	} else if (t & 8) {
		int s = m_find(&F.m, q->vm_id, q->vnic_id);

		q->flags |= VFPOOL_REQ_F_GEN;
		q->generation = (x & 1) && s >= 0 ? F.m.slot[s].gen : (uint64_t)(x >> 1) + 1;
	}
	if (t & 16) {
		q->flags |= VFPOOL_REQ_F_MAC;
		q->mac[0] = x & 0x40 ? 0x03 : 0x02;
		q->mac[5] = x;
	}
	if (t & 32)
		q->flags |= VFPOOL_REQ_F_EARLY;
	if (t & 64) {
		q->flags |= VFPOOL_REQ_F_BIND_PID;
		q->bind_pid = (x & 0x30) == 0 ? 0 : (x & 0x30) == 0x10 ? F.self : DEAD_PID;
	}
	if (t & 128)
		q->flags |= UNKNOWN_FLAG;
}

static void put_entry(struct client *c)
{
	uint8_t t = next_byte(), v = next_byte(), x = next_byte();
	struct vfpool_sqe *q = stage(c);

	if (q)
		fill(c, q, t, v, x, v & 3);
}

/* A VM's vNICs as one chain: len byte (1 + len % 40 entries: past a chain's 32 and past
 * small completion rings), a kind byte (bits 0-1 the last entry's op as in fill; 2 every
 * alloc early; 3 the last entry keeps the link flag: unfinished), then a v byte per entry. */
static void put_chain(struct client *c)
{
	uint32_t n = 1 + next_byte() % 40;
	uint8_t kind = next_byte();
	unsigned vm = 0;

	for (uint32_t k = 0; k < n; k++) {
		uint8_t v = next_byte();
		bool last = k + 1 == n;
		uint8_t t = last ? (kind & 3) : 0;
		struct vfpool_sqe *q;

		if (k == 0)
			vm = v & 3;
		if (!last || (kind & 8))
			t |= 4;
		if ((kind & 4) && (t & 3) < 2)
			t |= 32;
		q = stage(c);
		if (!q)
			return;
		fill(c, q, t, v, 0, vm);
	}
}

/* Overwrites one byte of a written entry (never user_data: the model matches on it). */
static void scribble(struct client *c)
{
	uint8_t which = next_byte(), off = next_byte(), val = next_byte();
	uint32_t pending = c->sq.priv_tail - c->served + c->staged, k;

	if (c->dead || c->corrupt || pending == 0)
		return;
	k = which % pending;
	((uint8_t *)&c->r.sqes[(c->served + k) & (c->sq_n - 1)])[8 + off % 248] = val;
	if (k < c->sq.priv_tail - c->served)
		c->touched = true;
}

static void corrupt_index(struct client *c)
{
	struct vfpool_ring_hdr *h = c->mem;
	uint8_t b = next_byte();

	if (c->dead || c->corrupt)
		return;
	c->corrupt = true;
	if (b & 1)
		atomic_store(&h->sq_tail.v, c->sq.priv_tail + c->sq_n + 1 + (b >> 1));
	else
		atomic_store(&h->cq_head.v, atomic_load(&h->cq_tail.v) + 1 + (b >> 1));
}

/* Op byte: bits 5-7 the client (mod 3), bits 0-4 what. */
static void run_op(uint8_t o)
{
	struct client *c = &F.c[(o >> 5) % N_CLIENTS];

	uint8_t what = o & 31;

	if (what < 10)
		put_entry(c);
	else if (what < 15)
		put_chain(c);
	else if (what < 19)
		publish(c, c->staged);
	else if (what == 19)
		publish(c, next_byte() % (c->staged + 1));
	else if (what < 25)
		serve(c, 1 + next_byte() % 64);
	else if (what < 28)
		reap(c, next_byte());
	else if (what == 28)
		scribble(c);
	else if (what < 31)
		check_sleep(c);
	else
		corrupt_index(c);
}

/* A client that publishes and reaps everything gets every complete chain served, or is
 * refused; what is left is an unfinished chain of its own, and the loop may sleep. */
static void drain(struct client *c)
{
	struct vfpool_ring_hdr *h = c->mem;
	struct vfpool_sqe rest[MAX_ENTRIES];
	uint32_t left;

	if (c->dead || c->corrupt)
		return;
	publish(c, c->staged);
	for (int i = 0; i < 64; i++) {
		int got;

		reap(c, UINT32_MAX);
		got = serve(c, 64);
		if (got < 0)
			return;
		if (got == 0)
			break;
	}
	left = atomic_load(&h->sq_tail.v) - c->served;
	for (uint32_t k = 0; k < left; k++)
		rest[k] = c->r.sqes[(c->served + k) & (c->sq_n - 1)];
	if (left && group_len(rest, 0, left))
		fail("client %u reaped everything, yet a complete request of %u entries is never "
		     "served (rings %u/%u)", (unsigned)(c - F.c), group_len(rest, 0, left),
		     c->sq_n, c->cq_n);
	if (left == c->sq_n)
		fail("client %u: an unfinished chain fills the request ring and is never refused",
		     (unsigned)(c - F.c));
	if (client_ring_prepare_sleep(&c->r) < 0)
		fail("client %u: the loop never sleeps on a reaped, served client", (unsigned)(c - F.c));
	client_ring_awake(&c->r);
}

static void setup_once(void)
{
	size_t size, ring = client_ring_size(MAX_ENTRIES, MAX_ENTRIES);

	F.self = getpid();
	F.trace = getenv("RING_ENGINE_MODEL_TRACE") != NULL;
	if (host_simulate(1, 4, &F.hosts[0]) || host_simulate(2, 16, &F.hosts[1]) ||
	    state_seg_size(F.hosts[1], &F.state_size) || state_seg_size(F.hosts[0], &size) ||
	    size > F.state_size)
		abort();
	F.state = aligned_alloc(64, (F.state_size + 63) & ~(size_t)63);
	for (int i = 0; i < N_CLIENTS; i++)
		F.c[i].mem = aligned_alloc(4096, ring);
	if (!F.state || !F.c[0].mem || !F.c[1].mem || !F.c[2].mem)
		abort();
	F.commit.stage = journal_stage;
	F.sink.post = sink_post;
}

/* Header: one byte per client (bits 0-1: request ring 8 << n entries; 2-3: completion
 * ring 8 << n), then one for the host (bit 0: 2 PFs x 16 VFs, else 1 x 4; bits 1-3: leases
 * per VM, 0 none). */
static void setup_input(void)
{
	uint8_t geo[N_CLIENTS], hb;
	const struct host *host;

	for (int i = 0; i < N_CLIENTS; i++)
		geo[i] = next_byte();
	hb = next_byte();
	host = F.hosts[hb & 1];
	memset(F.state, 0, F.state_size);
	if (state_seg_format(F.state, F.state_size, host) || engine_init(&F.e, F.state))
		abort();
	F.e.commit = &F.commit;
	F.e.max_leases_per_vm = (hb >> 1) & 7;
	memset(&F.m, 0, sizeof(F.m));
	F.m.n_vfs = F.e.hdr->n_vfs;
	F.m.quota = F.e.max_leases_per_vm;
	if (F.m.n_vfs > MAX_SLOTS)
		abort();
	for (uint32_t s = 0; s < F.m.n_vfs; s++) {
		const struct vfpool_shm_vf *vf = &state_vfs(F.e.hdr)[s];
		const struct pool_pf *pf = &F.e.pool.pfs[vf->pf_index];
		uint32_t idx = s - state_pfs(F.e.hdr)[vf->pf_index].vf_first;
		bool blocked = false;

		for (int r = 0; r < VFPOOL_BLOCK_NR; r++)
			blocked |= pool_is_blocked(pf, idx, (enum vfpool_block_reason)r);
		F.m.allocatable[s] = !blocked;
	}
	for (int i = 0; i < N_CLIENTS; i++) {
		struct client *c = &F.c[i];
		void *mem = c->mem;
		struct vfpool_ring_hdr *h = mem;
		size_t size;

		memset(c, 0, sizeof(*c));
		c->mem = mem;
		c->sq_n = 8u << (geo[i] & 3);
		c->cq_n = 8u << ((geo[i] >> 2) & 3);
		size = client_ring_size(c->sq_n, c->cq_n);
		if (client_ring_format(mem, size, (uint32_t)i + 1, c->sq_n, c->cq_n))
			abort();
		client_ring_attach(&c->r, mem, size);
		c->r.fd = -1;
		c->r.peer_pid = F.self;
		ring_prod_init(&c->sq, &h->sq_tail.v, &h->sq_head.v, c->sq_n, 0);
		ring_cons_init(&c->cq, &h->cq_head.v, &h->cq_tail.v, c->cq_n, 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!F.state)
		setup_once();
	F.in = data;
	F.in_len = size;
	F.pos = 0;
	F.step = 0;
	setup_input();
	while (F.pos < F.in_len) {
		F.step++;
		run_op(next_byte());
	}
	for (int i = 0; i < N_CLIENTS; i++)
		drain(&F.c[i]);
	engine_fini(&F.e);
	return 0;
}
