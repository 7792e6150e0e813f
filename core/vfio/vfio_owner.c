/* SPDX-License-Identifier: MIT */
/*
 * The vfio-pci binding jobs' owner on the daemon's io_uring (the jobs themselves:
 * core/vfio/vfio_bind.h). Reads the world with plain syscalls (readlink, a small
 * directory), keeps the records, opens each sysfs file with libc (O_NOFOLLOW: the last
 * component is never a link we follow) and hands the fd to io_uring for the write, which
 * the kernel may take its time over (an unbind waits for the driver's remove). One job per
 * VF at a time; jobs of different VFs run side by side.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/atomic_file.h"
#include "core/base/container_of.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/vfio/vfio_bind.h"
#include "core/vfio/vfio_owner.h"
#include "shm/seqlock.h"
#include "shm/state.h"

#define RECORD_MAX 128

struct job {
	struct loop_op op;      /* a write in flight */
	struct vfio_owner *o;
	struct vfio_bind m;
	uint32_t slot;
	uint64_t gen;           /* the lease generation it is for */
	struct pending_completion *pc; /* a bind for a request: the request waiting */
	struct request req;     /* that request: the configuration after the bind reads it */
	bool released;          /* a bind whose lease ended meanwhile: unbind after it */
	bool then_config;       /* an unbind at a release: the configuration's restore next */
	int fd;                 /* the file being written */
	bool in_flight;
	char buf[VFPOOL_PCI_ADDR_MAX + 1];
};

struct slot_state {
	struct job *job;                 /* the one in progress, or NULL */
	bool bound;                      /* bound to vfio-pci by us, for its lease */
	char orig[VFIO_DRIVER_NAME_MAX]; /* the driver it goes back to */
};

struct vfio_owner {
	struct engine_hooks hooks; /* first: the engine hands it back */
	struct engine_hooks *inner;
	struct io_uring *ring;
	struct engine *e;
	char sysfs[128];
	int dir_fd; /* <run-dir>/vfio */
	struct slot_state *slots;
	uint32_t n_slots;
	unsigned busy;
};

static void run(struct job *j);

static struct vfpool_shm_vf *vf_rec(const struct vfio_owner *o, uint32_t slot)
{
	return &state_vfs(o->e->hdr)[slot];
}

/* on: the lease's VF is (being) bound for it; pending: its configuration waits for that */
static void set_vfio_flag(struct vfio_owner *o, uint32_t slot, bool on, bool pending)
{
	struct vfpool_shm_vf *vf = vf_rec(o, slot);

	seqlock_write_begin(&o->e->hdr->seq);
	if (on) {
		vf->lease_flags |= VFPOOL_LEASE_F_VFIO;
		if (pending)
			vf->cfg_state = VFPOOL_CFG_PENDING; /* until bound and configured */
	} else {
		vf->lease_flags &= (uint16_t)~VFPOOL_LEASE_F_VFIO;
	}
	seqlock_write_end(&o->e->hdr->seq);
}

/* ---- the world ------------------------------------------------------------------------ */

/* src into dst[len]; "" when it does not fit (a name cut short would name something else) */
static void copy_name(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len)
		n = 0;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* The last component of a link's target, or "" when there is no link. */
static void link_base(const char *path, char *buf, size_t len)
{
	char target[256];
	const char *base;
	ssize_t n = readlink(path, target, sizeof(target) - 1);

	buf[0] = '\0';
	if (n <= 0)
		return;
	target[n] = '\0';
	base = strrchr(target, '/');
	copy_name(buf, len, base ? base + 1 : target);
}

static void read_world(const struct vfio_owner *o, const char *pci, struct vfio_world *w)
{
	char path[256], group[32];
	struct dirent *de;
	struct stat st;
	char *end;
	DIR *d;
	long g;

	memset(w, 0, sizeof(*w));
	w->iommu_group = -1;
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", o->sysfs, pci);
	if (stat(path, &st) < 0)
		return;
	w->present = true;
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver", o->sysfs, pci);
	link_base(path, w->driver, sizeof(w->driver));
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/iommu_group", o->sysfs, pci);
	link_base(path, group, sizeof(group));
	errno = 0;
	g = strtol(group, &end, 10);
	if (!group[0] || *end || g < 0 || g > INT32_MAX || errno)
		return;
	w->iommu_group = (int)g;
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/iommu_group/devices", o->sysfs, pci);
	d = opendir(path);
	if (!d) {
		w->group_devices = 1; /* the group exists; its listing did not: the VF alone */
		return;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		w->group_devices++;
		if (strcmp(de->d_name, pci) != 0 && !w->group_other[0])
			snprintf(w->group_other, sizeof(w->group_other), "%.15s", de->d_name);
	}
	closedir(d);
	if (!w->group_devices)
		w->group_devices = 1;
}

/* ---- the records ---------------------------------------------------------------------- */

static int record_save(struct vfio_owner *o, const char *pci, const char *orig, char *why,
		       size_t len)
{
	char buf[RECORD_MAX];
	int n = snprintf(buf, sizeof(buf), "driver=%s\n", orig), r;

	if (o->dir_fd < 0) {
		snprintf(why, len, "%s: binding record: no record directory", pci);
		return -EBADF;
	}
	r = atomic_file_replace(o->dir_fd, pci, buf, (size_t)n, 0600);
	if (r < 0)
		snprintf(why, len, "%s: binding record %s/%s: %s", pci, VFIO_RECORD_DIR, pci,
			 strerror(-r));
	return r;
}

static void record_forget(struct vfio_owner *o, const char *pci)
{
	if (o->dir_fd < 0)
		return;
	if (unlinkat(o->dir_fd, pci, 0) < 0 && errno != ENOENT) {
		log_warn("vfio_record_kept", "vf=%s error=\"%s\"", pci, strerror(errno));
		return;
	}
	fsync(o->dir_fd);
}

/* A driver name as a directory name under /sys/bus/pci/drivers: one component. */
static bool driver_name_ok(const char *s)
{
	return s[0] && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 && !strchr(s, '/') &&
	       strlen(s) < VFIO_DRIVER_NAME_MAX;
}

/* The original driver a record names ("driver=ixgbevf\n"); -EBADMSG when it is not one. */
static int record_load(struct vfio_owner *o, const char *name, char *orig, size_t len)
{
	char buf[RECORD_MAX];
	struct stat st;
	ssize_t n;
	int fd = openat(o->dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size >= RECORD_MAX) {
		close(fd);
		return -EBADMSG;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -EBADMSG;
	buf[n] = '\0';
	if (strncmp(buf, "driver=", 7) != 0 || n < 8 || buf[n - 1] != '\n')
		return -EBADMSG;
	buf[n - 1] = '\0';
	if (buf[7] && !driver_name_ok(buf + 7))
		return -EBADMSG;
	copy_name(orig, len, buf + 7);
	return 0;
}

/* ---- the writes ----------------------------------------------------------------------- */

static void on_written(struct loop_op *op, const struct io_uring_cqe *cqe)
{
	struct job *j = container_of(op, struct job, op);

	close(j->fd);
	j->fd = -1;
	j->in_flight = false;
	vfio_bind_written(&j->m, j->m.step, cqe->res);
	run(j);
}

static void issue_write(struct job *j, const struct vfio_action *a)
{
	struct vfio_owner *o = j->o;
	struct io_uring_sqe *sqe;
	char path[256];
	size_t n;

	switch (a->file) {
	case VFIO_FILE_OVERRIDE:
		snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver_override", o->sysfs,
			 j->m.pci);
		break;
	case VFIO_FILE_UNBIND:
		if (!driver_name_ok(a->driver)) {
			vfio_bind_written(&j->m, a->step, -EINVAL);
			return;
		}
		snprintf(path, sizeof(path), "%s/bus/pci/drivers/%s/unbind", o->sysfs, a->driver);
		break;
	case VFIO_FILE_PROBE:
		snprintf(path, sizeof(path), "%s/bus/pci/drivers_probe", o->sysfs);
		break;
	}
	j->fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (j->fd < 0) {
		vfio_bind_written(&j->m, a->step, -errno);
		return;
	}
	/* driver_override: "\n" clears it; the others take the address as it is */
	n = (size_t)snprintf(j->buf, sizeof(j->buf), "%s", a->value[0] ? a->value : "\n");
	j->op.complete = on_written;
	j->in_flight = true;
	sqe = loop_sqe(o->ring, &j->op);
	io_uring_prep_write(sqe, j->fd, j->buf, (unsigned)n, 0);
	io_uring_sqe_set_data(sqe, &j->op);
}

/* ---- jobs ----------------------------------------------------------------------------- */

static struct job *job_new(struct vfio_owner *o, uint32_t slot, uint64_t gen)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->o = o;
	j->slot = slot;
	j->gen = gen;
	j->fd = -1;
	o->slots[slot].job = j;
	o->busy++;
	return j;
}

static void job_free(struct job *j)
{
	if (j->o->slots[j->slot].job == j)
		j->o->slots[j->slot].job = NULL;
	j->o->busy--;
	if (j->fd >= 0)
		close(j->fd);
	free(j);
}

static bool lease_current(const struct vfio_owner *o, uint32_t slot, uint64_t gen)
{
	const struct vfpool_shm_vf *vf = vf_rec(o, slot);

	return vf->state == VFPOOL_VF_LEASED && vf->lease_gen == gen;
}

static void start_unbind(struct vfio_owner *o, uint32_t slot, uint64_t gen, bool then_config);

/* A VF that could not be given back to its driver: kept from everyone until repaired. */
static void quarantine(struct vfio_owner *o, uint32_t slot, bool leased, uint64_t gen,
		       const char *why)
{
	log_err("vf_quarantined", "vf=%s reason=\"%s\"", vf_rec(o, slot)->pci_addr, why);
	if (leased) {
		/* clear the lease but keep the claim: quarantine drops it with the bit set */
		engine_undo_lease(o->e, slot, gen);
		engine_hold_vf(o->e, slot);
	}
	set_vfio_flag(o, slot, false, false);
	engine_quarantine(o->e, slot, "vfio-pci: not given back to its driver");
}

static void told(struct job *j, int res, const char *why)
{
	struct pending_completion *pc = j->pc;

	j->pc = NULL;
	if (pc)
		pending_configured(pc, res, why);
}

static void bind_finished(struct job *j, enum vfio_outcome outcome, int error, const char *why)
{
	struct vfio_owner *o = j->o;
	struct slot_state *s = &o->slots[j->slot];
	const char *pci = vf_rec(o, j->slot)->pci_addr;
	bool current = !j->released && lease_current(o, j->slot, j->gen);
	char buf[VFIO_WHY_MAX];

	switch (outcome) {
	case VFIO_OK:
		s->bound = true;
		snprintf(s->orig, sizeof(s->orig), "%s", j->m.orig);
		if (!current) {
			/* released while it was being bound: straight back. A lease the engine
			 * dropped on its own (a journal refusal) returned the VF without asking
			 * us: held again, or it could be handed out on vfio-pci */
			if (!j->released && engine_hold_vf(o->e, j->slot) < 0)
				log_err("vfio_bind_orphaned", "vf=%s reason=\"leased again while "
					"bound to vfio-pci for a dropped lease\"", pci);
			log_info("vfio_bind_dropped", "vf=%s generation=%llu", pci,
				 (unsigned long long)j->gen);
			snprintf(buf, sizeof(buf), "%s: released before it was bound", pci);
			told(j, -ECANCELED, buf);
			start_unbind(o, j->slot, j->gen, false);
			return;
		}
		log_info("vfio_bound", "vf=%s group=%d driver=%s", pci, vfio_bind_group(&j->m),
			 j->m.orig[0] ? j->m.orig : "none");
		if (!j->pc)
			return; /* a restart's: the lease and its configuration are there */
		/* the completion as served (the engine is done with it): it carries the group */
		if (!(j->pc->gates & PENDING_ISSUE)) {
			j->pc->cqe.flags |= VFPOOL_CQE_F_VFIO;
			j->pc->cqe.iommu_group = vfio_bind_group(&j->m);
		}
		if (o->inner && o->inner->lease_made) {
			struct pending_completion *pc = j->pc;

			j->pc = NULL;
			o->inner->lease_made(o->inner, o->e, pc, &j->req);
		} else {
			/* nothing configures it: the pending state was the binding's */
			seqlock_write_begin(&o->e->hdr->seq);
			vf_rec(o, j->slot)->cfg_state = VFPOOL_CFG_NONE;
			seqlock_write_end(&o->e->hdr->seq);
			told(j, 0, NULL);
		}
		return;
	case VFIO_REFUSED:
	case VFIO_FAILED:
		log_warn("vfio_bind_failed", "vf=%s error=\"%s\"", pci, why);
		set_vfio_flag(o, j->slot, false, false);
		if (current)
			engine_undo_lease(o->e, j->slot, j->gen);
		else if (j->released)
			engine_return_vf(o->e, j->slot); /* our claim, from lease_ended */
		told(j, error, why);
		return;
	case VFIO_DIRTY:
		s->bound = false;
		if (!current && !j->released)
			engine_hold_vf(o->e, j->slot); /* quarantine drops a claim: take one */
		quarantine(o, j->slot, current, j->gen, why);
		told(j, error, why);
		return;
	}
}

static void unbind_finished(struct job *j, enum vfio_outcome outcome, const char *why)
{
	struct vfio_owner *o = j->o;
	struct slot_state *s = &o->slots[j->slot];
	const char *pci = vf_rec(o, j->slot)->pci_addr;

	s->bound = false;
	if (outcome != VFIO_OK) {
		quarantine(o, j->slot, false, j->gen, why);
		return;
	}
	log_info("vfio_unbound", "vf=%s driver=%s", pci, j->m.orig[0] ? j->m.orig : "none");
	set_vfio_flag(o, j->slot, false, false);
	/* the configuration's restore next (it returns the VF), else the VF returns now */
	if (j->then_config && o->inner && o->inner->lease_ended &&
	    o->inner->lease_ended(o->inner, o->e, j->slot, j->gen))
		return;
	engine_return_vf(o->e, j->slot);
}

static void finish(struct job *j)
{
	enum vfio_outcome outcome;
	const char *why;
	int error;

	vfio_bind_result(&j->m, &outcome, &error, &why);
	if (j->m.kind == VFIO_BIND)
		bind_finished(j, outcome, error, why);
	else
		unbind_finished(j, outcome, why);
}

/* Drives a job until it waits on the kernel or is over (then freed). */
static void run(struct job *j)
{
	struct vfio_owner *o = j->o;

	while (!j->in_flight) {
		struct vfio_action a;
		struct vfio_world w;
		char why[VFIO_WHY_MAX];
		int r;

		vfio_bind_next_action(&j->m, &a);
		switch (a.kind) {
		case VFIO_ACT_LOOK:
			read_world(o, j->m.pci, &w);
			vfio_bind_observe(&j->m, a.step, &w);
			break;
		case VFIO_ACT_RECORD:
			r = record_save(o, j->m.pci, a.driver, why, sizeof(why));
			vfio_bind_recorded(&j->m, a.step, r, why);
			break;
		case VFIO_ACT_FORGET:
			record_forget(o, j->m.pci);
			vfio_bind_recorded(&j->m, a.step, 0, NULL);
			break;
		case VFIO_ACT_WRITE:
			issue_write(j, &a);
			break;
		case VFIO_ACT_FINISHED:
			/* the slot is free for the next job before anything below starts one */
			o->slots[j->slot].job = NULL;
			finish(j);
			job_free(j);
			return;
		}
	}
}

static void start_unbind(struct vfio_owner *o, uint32_t slot, uint64_t gen, bool then_config)
{
	struct slot_state *s = &o->slots[slot];
	struct job *j = job_new(o, slot, gen);

	if (!j) {
		quarantine(o, slot, false, gen, "vfio-pci unbind: out of memory");
		return;
	}
	j->then_config = then_config;
	vfio_unbind_start(&j->m, vf_rec(o, slot)->pci_addr, s->orig);
	run(j);
}

/* ---- engine hooks --------------------------------------------------------------------- */

/* Asked by the request, or by the profile the lease was made through */
static bool wants_vfio(const struct engine *e, uint32_t slot, const struct request *req)
{
	const struct policy_profile *pr;

	if (req->flags & VFPOOL_REQ_F_VFIO)
		return true;
	if (!e->policy || !e->slot_profile || !e->slot_profile[slot][0])
		return false;
	pr = policy_find_profile(e->policy, e->slot_profile[slot]);
	return pr && pr->vfio;
}

static void lease_made(struct engine_hooks *h, struct engine *e, struct pending_completion *pc,
		       const struct request *req)
{
	struct vfio_owner *o = (struct vfio_owner *)h;
	uint32_t slot = pc->slot;
	const char *pci = vf_rec(o, slot)->pci_addr;
	char why[VFIO_WHY_MAX];
	struct job *j;

	if (o->slots[slot].job) {
		/* a VF a restart is still giving back (held, unless it was blocked when the
		 * restart found it on vfio-pci): nobody's until that is done */
		snprintf(why, sizeof(why), "%s: being given back to its driver by vfio-pci", pci);
		engine_undo_lease(e, slot, pc->generation);
		pending_configured(pc, -EBUSY, why);
		return;
	}
	if (!wants_vfio(e, slot, req)) {
		if (o->inner && o->inner->lease_made)
			o->inner->lease_made(o->inner, e, pc, req);
		else
			pending_configured(pc, 0, NULL);
		return;
	}
	if (e->hdr->host_kind != VFPOOL_HOST_UDEV) {
		snprintf(why, sizeof(why), "%s: vfio-pci binding needs the host's devices "
			 "(this daemon simulates its host)", pci);
		engine_undo_lease(e, slot, pc->generation);
		pending_configured(pc, -EOPNOTSUPP, why);
		return;
	}
	j = o->slots[slot].bound ? NULL : job_new(o, slot, pc->generation);
	if (!j) {
		bool bound = o->slots[slot].bound;

		snprintf(why, sizeof(why), "%s: vfio-pci binding: %s", pci,
			 bound ? "still bound for an earlier lease" : strerror(ENOMEM));
		engine_undo_lease(e, slot, pc->generation);
		pending_configured(pc, bound ? -EBUSY : -ENOMEM, why);
		return;
	}
	j->pc = pc;
	j->req = *req;
	/* journaled with the lease: a restart finishes the binding the lease asked for */
	set_vfio_flag(o, slot, true, true);
	vfio_bind_start(&j->m, pci);
	/* looks and records at once; a refusal completes the request inline */
	run(j);
}

static bool lease_ended(struct engine_hooks *h, struct engine *e, uint32_t slot,
			uint64_t generation)
{
	struct vfio_owner *o = (struct vfio_owner *)h;
	struct slot_state *s = &o->slots[slot];

	if (s->job) {
		/* being bound or given back: kept claimed; the job's end decides */
		s->job->released = true;
		return true;
	}
	if (s->bound) {
		start_unbind(o, slot, generation, true);
		return true;
	}
	return o->inner && o->inner->lease_ended &&
	       o->inner->lease_ended(o->inner, e, slot, generation);
}

/* ---- recovery ------------------------------------------------------------------------- */

static void recover_one(struct vfio_owner *o, const char *name)
{
	char orig[VFIO_DRIVER_NAME_MAX];
	const struct vfpool_shm_vf *vf;
	int64_t slot;
	struct job *j;
	int r = record_load(o, name, orig, sizeof(orig));

	if (r < 0) {
		log_err("vfio_record_bad", "file=%s/%s error=\"%s\"", VFIO_RECORD_DIR, name,
			strerror(-r));
		return;
	}
	slot = engine_find_pci(o->e, name);
	if (slot < 0) {
		log_info("vfio_record_dropped", "vf=%s reason=\"the VF is gone\"", name);
		record_forget(o, name);
		return;
	}
	vf = vf_rec(o, (uint32_t)slot);
	j = job_new(o, (uint32_t)slot, vf->lease_gen);
	if (!j) {
		log_err("vfio_recover_failed", "vf=%s error=\"%s\"", name, strerror(ENOMEM));
		return;
	}
	snprintf(o->slots[slot].orig, sizeof(o->slots[slot].orig), "%s", orig);
	if (vf->state == VFPOOL_VF_LEASED) {
		log_info("vfio_recover", "vf=%s action=bind driver=%s", name,
			 orig[0] ? orig : "none");
		set_vfio_flag(o, (uint32_t)slot, true, false);
		vfio_bind_resume(&j->m, name, orig);
	} else {
		/* held until it is back on its driver: nobody gets it on vfio-pci */
		log_info("vfio_recover", "vf=%s action=unbind driver=%s", name,
			 orig[0] ? orig : "none");
		engine_hold_vf(o->e, (uint32_t)slot);
		vfio_unbind_start(&j->m, name, orig);
	}
	run(j);
}

void vfio_owner_recover(struct vfio_owner *o)
{
	struct dirent *de;
	DIR *d;
	int fd;

	if (o->dir_fd >= 0 && o->e->hdr->host_kind == VFPOOL_HOST_UDEV) {
		fd = dup(o->dir_fd);
		d = fd >= 0 ? fdopendir(fd) : NULL;
		if (!d) {
			if (fd >= 0)
				close(fd);
			log_err("vfio_recover_failed", "dir=%s error=\"%s\"", VFIO_RECORD_DIR,
				strerror(errno));
		} else {
			while ((de = readdir(d)))
				if (de->d_name[0] != '.')
					recover_one(o, de->d_name);
			closedir(d);
		}
	}
	/* a lease that asked for vfio-pci and has no record: its bind never started (or
	 * was given back while the lease's end was not yet durable): bind it now */
	for (uint32_t slot = 0; slot < o->n_slots && slot < o->e->hdr->n_vfs; slot++) {
		const struct vfpool_shm_vf *vf = vf_rec(o, slot);
		struct job *j;

		if (vf->state != VFPOOL_VF_LEASED || !(vf->lease_flags & VFPOOL_LEASE_F_VFIO) ||
		    o->slots[slot].job || o->slots[slot].bound)
			continue;
		if (o->e->hdr->host_kind != VFPOOL_HOST_UDEV || !(j = job_new(o, slot,
									    vf->lease_gen))) {
			set_vfio_flag(o, slot, false, false);
			continue;
		}
		log_info("vfio_recover", "vf=%s action=bind", vf->pci_addr);
		vfio_bind_start(&j->m, vf->pci_addr);
		run(j);
	}
}

/* ---- life ----------------------------------------------------------------------------- */

int vfio_owner_new(const struct vfio_owner_opts *opts, struct vfio_owner **ret_owner)
{
	struct vfio_owner *o = calloc(1, sizeof(*o));
	struct engine *e = opts->engine;

	if (!o)
		return -ENOMEM;
	o->ring = opts->ring;
	o->e = e;
	o->dir_fd = -1;
	snprintf(o->sysfs, sizeof(o->sysfs), "%s", opts->sysfs ? opts->sysfs : "/sys");
	o->n_slots = e->hdr->vf_capacity ? e->hdr->vf_capacity : 1;
	o->slots = calloc(o->n_slots, sizeof(*o->slots));
	if (!o->slots) {
		free(o);
		return -ENOMEM;
	}
	if (opts->run_dir_fd >= 0) {
		if (mkdirat(opts->run_dir_fd, VFIO_RECORD_DIR, 0700) < 0 && errno != EEXIST) {
			int r = -errno;

			log_err("start_failed", "dir=%s error=\"%s\"", VFIO_RECORD_DIR,
				strerror(-r));
			vfio_owner_free(o);
			return r;
		}
		o->dir_fd = openat(opts->run_dir_fd, VFIO_RECORD_DIR,
				   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (o->dir_fd < 0) {
			int r = -errno;

			log_err("start_failed", "dir=%s error=\"%s\"", VFIO_RECORD_DIR,
				strerror(-r));
			vfio_owner_free(o);
			return r;
		}
	}
	o->inner = e->hooks;
	o->hooks.lease_made = lease_made;
	o->hooks.lease_ended = lease_ended;
	e->hooks = &o->hooks;
	*ret_owner = o;
	return 0;
}

unsigned vfio_owner_busy(const struct vfio_owner *o)
{
	return o->busy;
}

void vfio_owner_free(struct vfio_owner *o)
{
	if (!o)
		return;
	if (o->e && o->e->hooks == &o->hooks)
		o->e->hooks = o->inner;
	for (uint32_t i = 0; o->slots && i < o->n_slots; i++)
		if (o->slots[i].job)
			job_free(o->slots[i].job);
	if (o->dir_fd >= 0)
		close(o->dir_fd);
	free(o->slots);
	free(o);
}
