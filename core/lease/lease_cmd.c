/* SPDX-License-Identifier: MIT */
/*
 * lease list [--vm VM]        anyone: who holds which VF
 * lease release VM [VNIC]     admin: a VM's leases (or one vNIC's), as if its launcher had
 * lease gc VM...              admin: every lease of VMs the operator says are gone
 * Releases go through the engine like a client's, so they are journaled, and the reply
 * is sent once they are durable.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/base/container_of.h"
#include "core/lease/lease_cmd.h"
#include "core/lease/lease_durable.h"
#include "core/log.h"
#include "shm/state.h"

struct release_batch {
	struct completion_sink sink;
	struct ctl_request *req;
	unsigned waiting;  /* kept by the engine until the journal has them */
	unsigned released;
	unsigned failed;
};

static void batch_reply(struct release_batch *b)
{
	if (b->failed)
		ctl_reply(b->req, -EIO, "released %u leases, %u failed", b->released, b->failed);
	else
		ctl_reply(b->req, 0, "released %u leases", b->released);
	free(b);
}

static void batch_post(struct completion_sink *sink, const struct vfpool_cqe *cqe)
{
	struct release_batch *b = container_of(sink, struct release_batch, sink);

	if (cqe->res)
		b->failed++;
	else
		b->released++;
	if (--b->waiting == 0)
		batch_reply(b);
}

static void release_one(struct release_batch *b, const char *vm, const char *vnic)
{
	const struct lease_cmd_ctx *ctx = b->req->ctx;
	struct request r;
	struct vfpool_cqe c;

	memset(&r, 0, sizeof(r));
	r.op = VFPOOL_OP_RELEASE;
	memcpy(r.vm_id, vm, strnlen(vm, sizeof(r.vm_id) - 1));
	memcpy(r.vnic_id, vnic, strnlen(vnic, sizeof(r.vnic_id) - 1));
	if (engine_serve(ctx->engine, &r, &b->sink, &c).later) {
		b->waiting++;
		return;
	}
	if (c.res)
		b->failed++;
	else
		b->released++;
}

/* Releases every lease of the VMs in vms[0..n) (vnic NULL) or that one vNIC. */
static void release_leases(struct ctl_request *req, char **vms, int n, const char *vnic)
{
	const struct lease_cmd_ctx *ctx = req->ctx;
	const struct vfpool_state_hdr *hdr = ctx->engine->hdr;
	struct release_batch *b = calloc(1, sizeof(*b));

	if (!b) {
		ctl_reply(req, -ENOMEM, "out of memory");
		return;
	}
	b->sink.post = batch_post;
	b->req = req;
	b->waiting = 1; /* our own hold, so no reply goes out while we still walk the table */
	for (int k = 0; k < n; k++) {
		if (!vms[k][0] || strlen(vms[k]) >= VFPOOL_VM_ID_MAX ||
		    (vnic && strlen(vnic) >= VFPOOL_VNIC_ID_MAX)) {
			b->failed++;
			continue;
		}
		for (uint32_t s = 0; s < hdr->n_vfs; s++) {
			const struct vfpool_shm_vf *vf = &state_vfs(hdr)[s];
			char vnic_id[VFPOOL_VNIC_ID_MAX];

			if (vf->state != VFPOOL_VF_LEASED || strcmp(vf->vm_id, vms[k]) != 0 ||
			    (vnic && strcmp(vf->vnic_id, vnic) != 0))
				continue;
			memcpy(vnic_id, vf->vnic_id, sizeof(vnic_id)); /* the record is cleared */
			release_one(b, vms[k], vnic_id);
		}
	}
	log_info("leases_released_by_operator", "uid=%u pid=%d vm=%s vms=%d vnic=%s leases=%u",
		 (unsigned)req->cred.uid, (int)req->cred.pid, vms[0], n, vnic ? vnic : "*",
		 b->released + b->failed + b->waiting - 1);
	if (--b->waiting == 0)
		batch_reply(b);
}

static void cmd_lease_release(struct ctl_request *req)
{
	if (req->argc < 1 || req->argc > 2) {
		ctl_reply_usage(req, "lease release VM [VNIC]");
		return;
	}
	release_leases(req, req->argv, 1, req->argc == 2 ? req->argv[1] : NULL);
}

static void cmd_lease_gc(struct ctl_request *req)
{
	if (req->argc < 1) {
		ctl_reply_usage(req, "lease gc VM...");
		return;
	}
	release_leases(req, req->argv, req->argc, NULL);
}

static struct json_object *lease_json(const struct vfpool_shm_vf *vf, int32_t pid)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "vm", json_object_new_string(vf->vm_id));
	json_object_object_add(o, "vnic", json_object_new_string(vf->vnic_id));
	json_object_object_add(o, "pci", json_object_new_string(vf->pci_addr));
	json_object_object_add(o, "network", json_object_new_string(vf->network));
	json_object_object_add(o, "generation", json_object_new_uint64(vf->lease_gen));
	json_object_object_add(o, "pid_bound",
			       json_object_new_boolean(vf->lease_flags & VFPOOL_LEASE_F_PID_BOUND));
	json_object_object_add(o, "bound_pid", json_object_new_int(pid));
	return o;
}

static void cmd_lease_list(struct ctl_request *req)
{
	const struct lease_cmd_ctx *ctx = req->ctx;
	const struct lease_durable *ld = ctx->durable;
	const struct vfpool_state_hdr *hdr = ctx->engine->hdr;
	struct json_object *list;
	const char *vm = NULL;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	if (req->argc == 2 && strcmp(req->argv[0], "--vm") == 0) {
		vm = req->argv[1];
	} else if (req->argc != 0) {
		ctl_reply_usage(req, "lease list [--vm VM]");
		return;
	}
	f = open_memstream(&out, &len);
	if (!f) {
		ctl_reply(req, -ENOMEM, "out of memory");
		return;
	}
	list = json_object_new_array();
	for (uint32_t s = 0; s < hdr->n_vfs; s++) {
		const struct vfpool_shm_vf *vf = &state_vfs(hdr)[s];

		if (vf->state != VFPOOL_VF_LEASED || (vm && strcmp(vf->vm_id, vm) != 0))
			continue;
		int32_t pid = s < ld->n_slots ? ld->bound_pid[s] : 0;

		json_object_array_add(list, lease_json(vf, pid));
		if (pid > 0)
			fprintf(f, "%s %s %s %s generation %llu pid %d\n", vf->vm_id, vf->vnic_id,
				vf->pci_addr, vf->network, (unsigned long long)vf->lease_gen, (int)pid);
		else
			fprintf(f, "%s %s %s %s generation %llu\n", vf->vm_id, vf->vnic_id,
				vf->pci_addr, vf->network, (unsigned long long)vf->lease_gen);
	}
	fclose(f);
	ctl_reply_data(req, 0, list, out);
}

const struct ctl_command lease_commands[] = {
	{ { "lease", "list" }, false, cmd_lease_list, "lease list [--vm VM]: leases, by VM" },
	{ { "lease", "release" }, true, cmd_lease_release,
	  "lease release VM [VNIC]: release a VM's leases (or one vNIC's)" },
	{ { "lease", "gc" }, true, cmd_lease_gc,
	  "lease gc VM...: release every lease of VMs that are gone" },
	{ { NULL } },
};
