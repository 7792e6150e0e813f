/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bpf/probe.h"
#include "core/base/container_of.h"
#include "core/probe/link_watch.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/probe/pf_link.h"
#include "core/probe/probe_source.h"
#include "core/probe/vf_netdevs.h"
#include "shm/seqlock.h"
#include "shm/state.h"

/* One link message is a few hundred bytes to a few KiB (a PF's carries its VFs' info);
 * multicast delivers one message per datagram. */
#define RECV_BUF (64 * 1024)
/* Datagrams taken per wakeup before the loop serves others again; the poll re-arms and
 * fires at once if more are queued. */
#define RECV_BATCH 256
/* Counter refresh: every second while the counters move, backing off to once a minute
 * while they stand still. In bpf mode the kernel drops unrelated events without waking
 * us, so only a timer can show them; a minute apart it costs nothing on an idle host. */
#define REFRESH_MIN_MS 1000u
#define REFRESH_MAX_MS 60000u
/* Room for a burst: in fallback mode every link event of the host is queued here. */
#define EVENT_RCVBUF (4 << 20)

struct probe_source {
	struct io_uring *ring;
	struct engine *engine;
	struct vfpool_state_hdr *hdr;
	struct probe *probe;
	struct link_watch *lw;
	struct loop_op poll_op, timer_op;
	struct __kernel_timespec timer_ts;
	unsigned refresh_ms;
	uint64_t passed, dropped; /* as last published */
	int32_t *tracked;         /* per VF slot: the ifindex tracked for it, 0: none */
	struct pf_link *pf_link;  /* the PFs' link state */
	uint8_t buf[RECV_BUF];
};

int probe_source_parse_mode(const char *s, enum vfpool_probe_mode *ret_mode)
{
	static const struct { const char *name; enum vfpool_probe_mode mode; } modes[] = {
		{ "bpf", VFPOOL_PROBE_BPF },
		{ "fallback", VFPOOL_PROBE_FALLBACK },
		{ "off", VFPOOL_PROBE_OFF },
	};

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcmp(s, modes[i].name) == 0) {
			*ret_mode = modes[i].mode;
			return 0;
		}
	}
	return -EINVAL;
}

static void publish_mode(struct vfpool_state_hdr *hdr, enum vfpool_probe_mode mode,
			 const char *reason)
{
	seqlock_write_begin(&hdr->seq);
	hdr->probe_mode = (uint32_t)mode;
	snprintf(hdr->probe_reason, sizeof(hdr->probe_reason), "%s", reason);
	seqlock_write_end(&hdr->seq);
}

/* Publishes the filter counters; true when they moved since the last call. */
static bool publish_counters(struct probe_source *ps)
{
	uint64_t passed, dropped;
	bool moved;

	if (probe_counters(ps->probe, &passed, &dropped) < 0)
		return false;
	moved = passed != ps->passed || dropped != ps->dropped;
	ps->passed = passed;
	ps->dropped = dropped;
	/* relaxed: statistics for ops tools, read on their own; nothing is ordered by them */
	atomic_store_explicit(&ps->hdr->probe_passed, passed, memory_order_relaxed);
	atomic_store_explicit(&ps->hdr->probe_dropped, dropped, memory_order_relaxed);
	return moved;
}

/* link_watch's verdict for one VF record: the HOST_BUSY bit, how the host uses it, and the
 * reason readers see, changed together inside the seqlock. */
static void on_verdict(void *userdata, uint32_t slot, const struct link_watch_verdict *v)
{
	struct probe_source *ps = userdata;
	struct vfpool_state_hdr *hdr = ps->hdr;
	struct vfpool_shm_vf *vf = &state_vfs(hdr)[slot];
	struct pool_pf *pf = &ps->engine->pool.pfs[vf->pf_index];
	uint32_t pf_slot = slot - state_pfs(hdr)[vf->pf_index].vf_first;
	bool other = false, was = pool_is_blocked(pf, pf_slot, VFPOOL_BLOCK_HOST_BUSY);

	/* Another reason (absent, IOMMU, bound, dirty) outranks host-busy in what readers are
	 * shown, and owns the reason text: leave it alone. The text says why a VF is blocked:
	 * an "up on the host" that blocks nothing is only in the host-use word. */
	for (int r = 0; r < VFPOOL_BLOCK_NR; r++)
		if (r != VFPOOL_BLOCK_HOST_BUSY && pool_is_blocked(pf, pf_slot, r))
			other = true;
	seqlock_write_begin(&hdr->seq);
	pool_set_blocked(pf, pf_slot, VFPOOL_BLOCK_HOST_BUSY, v->busy);
	state_host_use(hdr)[slot] = v->uses;
	if (!other)
		snprintf(vf->reason, sizeof(vf->reason), "%s", v->busy ? v->reason : "");
	seqlock_write_end(&hdr->seq);
	if (v->busy || was)
		log_info("vf_host_busy", "vf=%s netdev=%s busy=%s reason=\"%s\"", vf->pci_addr,
			 vf->netdev, v->busy ? "yes" : "no", v->reason);
	else
		log_info("vf_host_use", "vf=%s netdev=%s reason=\"%s\"", vf->pci_addr, vf->netdev,
			 v->uses ? v->reason : "none");
}

/* The devices stacked over the VFs changed: the filter follows. */
static void on_related(void *userdata, int ifindex, bool related)
{
	struct probe_source *ps = userdata;
	int r = related ? probe_relate(ps->probe, ifindex) : probe_unrelate(ps->probe, ifindex);

	if (r < 0 && !(r == -ENOENT && !related))
		log_err("probe_track_failed", "ifindex=%d error=\"%s over a VF: %s\"", ifindex,
			related ? "tracking a device" : "untracking a device", strerror(-r));
}

/* Events were lost (or could not be read), or some may have been dropped before they
 * mattered: forget the queue, rebuild from dumps. */
/* The PF netdevs' events pass the filter as related devices' do. */
static void relate_pf(void *ctx, int ifindex, bool on)
{
	struct probe_source *ps = ctx;
	int r = on ? probe_relate(ps->probe, ifindex) : probe_unrelate(ps->probe, ifindex);

	if (r < 0 && !(r == -ENOENT && !on))
		log_err("probe_track_failed", "ifindex=%d error=\"%s a PF netdev: %s\"", ifindex,
			on ? "tracking" : "untracking", strerror(-r));
}

static void resync(struct probe_source *ps, const char *why, bool lost)
{
	int r;

	probe_drain(ps->probe);
	pf_link_refresh(ps->pf_link, relate_pf, ps);
	r = link_watch_resync(ps->lw, NULL);
	if (r < 0)
		log_err("probe_resync_failed", "cause=\"%s\" error=\"%s\"", why, strerror(-r));
	else if (lost)
		log_warn("probe_resync", "cause=\"%s\"", why);
	else
		log_info("probe_resync", "cause=\"%s\"", why);
}

static void arm_poll(struct probe_source *ps)
{
	struct io_uring_sqe *sqe = loop_sqe(ps->ring, &ps->poll_op);

	io_uring_prep_poll_add(sqe, probe_fd(ps->probe), POLLIN);
	io_uring_sqe_set_data(sqe, &ps->poll_op);
}

static void arm_timer(struct probe_source *ps)
{
	loop_timer(ps->ring, &ps->timer_op, &ps->timer_ts, ps->refresh_ms);
}

static void receive(struct probe_source *ps)
{
	int fd = probe_fd(ps->probe);

	for (int i = 0; i < RECV_BATCH; i++) {
		/* MSG_TRUNC: the datagram's real length, so a cut message is noticed */
		ssize_t n = recv(fd, ps->buf, sizeof(ps->buf), MSG_DONTWAIT | MSG_TRUNC);
		int r;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			if (errno == ENOBUFS) {
				resync(ps, "event socket overrun (ENOBUFS)", true);
				continue;
			}
			log_err("probe_recv_failed", "error=\"%s\"", strerror(errno));
			return;
		}
		if ((size_t)n > sizeof(ps->buf)) {
			resync(ps, "link message larger than the receive buffer", true);
			continue;
		}
		pf_link_feed(ps->pf_link, ps->buf, (size_t)n);
		r = link_watch_feed(ps->lw, ps->buf, (size_t)n);
		if (r < 0)
			resync(ps, strerror(-r), true);
		else if (link_watch_resync_due(ps->lw))
			resync(ps, "a device over a VF got a master: what was on it already", false);
	}
}

static void on_poll(struct loop_op *op, const struct io_uring_cqe *cqe)
{
	struct probe_source *ps = container_of(op, struct probe_source, poll_op);

	if (cqe->res == -ECANCELED)
		return;
	if (cqe->res < 0) {
		/* not re-armed: a poll that fails once fails again, and would spin */
		log_err("probe_stopped", "error=\"poll on the event socket: %s\"",
			strerror(-cqe->res));
		return;
	}
	receive(ps);
	if (publish_counters(ps))
		ps->refresh_ms = REFRESH_MIN_MS;
	arm_poll(ps);
}

static void on_timer(struct loop_op *op, const struct io_uring_cqe *cqe)
{
	struct probe_source *ps = container_of(op, struct probe_source, timer_op);

	if (cqe->res == -ECANCELED)
		return;
	if (publish_counters(ps))
		ps->refresh_ms = REFRESH_MIN_MS;
	else if (ps->refresh_ms < REFRESH_MAX_MS)
		ps->refresh_ms = ps->refresh_ms * 2 < REFRESH_MAX_MS ? ps->refresh_ms * 2 :
								       REFRESH_MAX_MS;
	arm_timer(ps);
}

/* Resolves the VF netdevs here and tracks those that exist; returns how many. */
static int track_vfs(struct probe_source *ps)
{
	struct vfpool_state_hdr *hdr = ps->hdr;
	struct vfpool_shm_vf *vfs = state_vfs(hdr);
	int32_t *ifindex = calloc(hdr->n_vfs ? hdr->n_vfs : 1, sizeof(*ifindex));
	int r, n = 0;

	if (!ifindex)
		return -ENOMEM;
	r = vf_netdevs_resolve(vfs, hdr->n_vfs, ifindex);
	if (r < 0) {
		log_err("probe_start_failed", "error=\"listing network interfaces: %s\"",
			strerror(-r));
		goto out;
	}
	/* the records say where each VF netdev is in this namespace, 0 where it is not */
	seqlock_write_begin(&hdr->seq);
	for (uint32_t i = 0; i < hdr->n_vfs; i++)
		if (vfs[i].netdev[0])
			vfs[i].ifindex = ifindex[i];
	seqlock_write_end(&hdr->seq);
	for (uint32_t i = 0; i < hdr->n_vfs; i++) {
		/* a netdev that went, or came back under another ifindex, is tracked anew */
		if (ps->tracked[i] > 0 && ps->tracked[i] != ifindex[i]) {
			probe_untrack(ps->probe, ps->tracked[i]);
			link_watch_untrack_vf(ps->lw, ps->tracked[i]);
			ps->tracked[i] = 0;
		}
		if (ifindex[i] <= 0)
			continue;
		if (ps->tracked[i] == ifindex[i]) {
			n++;
			continue;
		}
		r = probe_track(ps->probe, ifindex[i], i);
		if (r == 0)
			r = link_watch_track_vf(ps->lw, ifindex[i], i);
		if (r < 0) {
			log_err("probe_track_failed", "vf=%s netdev=%s error=\"tracking: %s\"",
				vfs[i].pci_addr, vfs[i].netdev, strerror(-r));
			goto out;
		}
		ps->tracked[i] = ifindex[i];
		n++;
	}
	r = n;
out:
	free(ifindex);
	return r;
}

int probe_source_new(struct engine *engine, enum vfpool_probe_mode mode, bool busy_when_up,
		     struct probe_source **ret_source)
{
	struct probe_opts opts = { .force_fallback = mode == VFPOOL_PROBE_FALLBACK,
				   .rcvbuf = EVENT_RCVBUF };
	struct probe_source *ps;
	const char *reason;
	int r, tracked;

	if (mode == VFPOOL_PROBE_OFF) {
		publish_mode(engine->hdr, VFPOOL_PROBE_OFF, "disabled by --probe=off");
		log_warn("probe_off", "reason=\"disabled by --probe=off: host-busy VFs are not "
			 "detected\"");
		*ret_source = NULL;
		return 0;
	}
	ps = calloc(1, sizeof(*ps));
	if (!ps)
		return -ENOMEM;
	ps->engine = engine;
	ps->hdr = engine->hdr;
	ps->poll_op.complete = on_poll;
	ps->timer_op.complete = on_timer;
	ps->refresh_ms = REFRESH_MIN_MS;
	/* per VF slot the segment can hold: PFs that come after start add slots */
	ps->tracked = calloc(ps->hdr->vf_capacity ? ps->hdr->vf_capacity : 1,
			     sizeof(*ps->tracked));
	if (!ps->tracked) {
		r = -ENOMEM;
		goto fail;
	}
	r = pf_link_new(ps->hdr, &ps->pf_link);
	if (r < 0)
		goto fail;
	r = probe_open(&opts, &ps->probe);
	if (r < 0) {
		log_err("probe_start_failed", "error=\"opening the NETLINK_ROUTE event socket: %s\"",
			strerror(-r));
		goto fail;
	}
	r = link_watch_new(&ps->lw, on_verdict, ps);
	if (r < 0)
		goto fail;
	link_watch_set_related_cb(ps->lw, on_related, ps);
	link_watch_set_busy_when_up(ps->lw, busy_when_up);
	if (busy_when_up)
		atomic_fetch_or_explicit(&ps->hdr->flags, VFPOOL_STATE_F_BUSY_WHEN_UP,
					 memory_order_relaxed);
	reason = probe_fallback_reason(ps->probe);
	if (strcmp(probe_mode(ps->probe), "bpf") == 0) {
		publish_mode(ps->hdr, VFPOOL_PROBE_BPF, "");
	} else {
		link_watch_set_filter(ps->lw, probe_filter, ps->probe);
		publish_mode(ps->hdr, VFPOOL_PROBE_FALLBACK, reason);
		log_warn("probe_fallback", "reason=\"%s\"", reason);
	}
	tracked = track_vfs(ps);
	if (tracked < 0) {
		r = tracked;
		goto fail;
	}
	/* after tracking, before the first event is read: what is stacked on a VF already
	 * counts (an event queued meanwhile is replayed over the dump, and agrees with it) */
	pf_link_refresh(ps->pf_link, relate_pf, ps);
	r = link_watch_resync(ps->lw, NULL);
	if (r < 0) {
		log_err("probe_start_failed", "error=\"dumping links, addresses and routes: %s\"",
			strerror(-r));
		goto fail;
	}
	publish_counters(ps);
	log_info("probe_started", "mode=%s vf_netdevs=%d busy_when_up=%s", probe_mode(ps->probe),
		 tracked, busy_when_up ? "yes" : "no");
	*ret_source = ps;
	return 0;
fail:
	probe_source_free(ps);
	return r;
}

void probe_source_arm(struct probe_source *ps, struct io_uring *ring)
{
	if (!ps)
		return;
	ps->ring = ring;
	arm_poll(ps);
	arm_timer(ps);
}

void probe_source_free(struct probe_source *ps)
{
	if (!ps)
		return;
	link_watch_free(ps->lw);
	probe_close(ps->probe);
	pf_link_free(ps->pf_link);
	free(ps->tracked);
	free(ps);
}

int probe_source_retrack(struct probe_source *ps)
{
	int r;

	if (!ps)
		return 0;
	r = track_vfs(ps);
	if (r < 0)
		return r;
	pf_link_refresh(ps->pf_link, relate_pf, ps); /* a PF netdev renamed, come or gone */
	/* what already sits on a VF netdev that just came counts, as at start */
	r = link_watch_resync(ps->lw, NULL);
	if (r < 0)
		log_err("probe_resync_failed", "cause=\"host changed\" error=\"%s\"", strerror(-r));
	return r;
}
