/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/policy/policy_cmd.h"
#include "core/policy/policy_store.h"
#include "shm/seqlock.h"

void policy_daemon_publish(const struct policy_cmd_ctx *ctx)
{
	struct vfpool_state_hdr *hdr = ctx->seg->hdr;

	seqlock_write_begin(&hdr->seq);
	policy_publish(ctx->policy, state_networks(hdr), hdr->network_capacity, &hdr->n_networks);
	hdr->config_generation = ctx->policy->generation;
	seqlock_write_end(&hdr->seq);
}

int policy_daemon_start(const struct policy_cmd_ctx *ctx, const struct host *h)
{
	char (*pci)[VFPOOL_PCI_ADDR_MAX] = calloc(h->n_pfs + 1, sizeof(*pci));
	char (*netdev)[VFPOOL_IFNAME_MAX] = calloc(h->n_pfs + 1, sizeof(*netdev));
	char why[300] = "";
	unsigned skipped = 0;
	int r = -ENOMEM;

	if (pci && netdev) {
		for (size_t i = 0; i < h->n_pfs; i++) {
			memcpy(pci[i], h->pfs[i].pci_addr, sizeof(pci[i]));
			memcpy(netdev[i], h->pfs[i].netdev, sizeof(netdev[i]));
		}
		r = policy_init(ctx->policy, (uint32_t)h->n_pfs,
				(const char (*)[VFPOOL_PCI_ADDR_MAX])pci,
				(const char (*)[VFPOOL_IFNAME_MAX])netdev);
	}
	free(pci);
	free(netdev);
	if (r) {
		log_err("start_failed", "policy error=\"%s\"", strerror(-r));
		return r;
	}
	r = policy_store_load(ctx->state_dir, ctx->policy, &skipped, why, sizeof(why));
	if (r == -ENOENT) {
		log_info("policy_empty", "state_dir=%s reason=\"no policy file: every PF serves every network\"",
			 ctx->state_dir);
	} else if (r) {
		log_err("start_failed", "policy error=\"%s\"", why);
		policy_fini(ctx->policy);
		return r;
	} else {
		log_info("policy_loaded", "networks=%u profiles=%u skipped_lines=%u",
			 ctx->policy->n_nets, ctx->policy->n_profiles, skipped);
	}
	ctx->engine->policy = ctx->policy;
	policy_daemon_publish(ctx);
	return 0;
}

/* A policy for these PFs with what the state dir's file says (no file: every PF serves every
 * network, as a start without one), put in place of the live one: the engine points at
 * ctx->policy, the same object with new content. On failure the live policy stays. */
static int rebuild(const struct policy_cmd_ctx *ctx, uint32_t n_pfs,
		   const char (*pci)[VFPOOL_PCI_ADDR_MAX], const char (*netdev)[VFPOOL_IFNAME_MAX],
		   unsigned *ret_skipped, char *why, size_t why_len)
{
	struct policy next;
	int r;

	r = policy_init(&next, n_pfs, pci, netdev);
	if (r) {
		snprintf(why, why_len, "%s", strerror(-r));
		return r;
	}
	next.generation = ctx->policy->generation;
	r = policy_store_load(ctx->state_dir, &next, ret_skipped, why, why_len);
	if (r && r != -ENOENT) {
		policy_fini(&next);
		return r;
	}
	next.generation = ctx->policy->generation + 1;
	policy_fini(ctx->policy);
	*ctx->policy = next;
	policy_daemon_publish(ctx);
	return 0;
}

int policy_daemon_grow(const struct policy_cmd_ctx *ctx, const struct host *h)
{
	char (*pci)[VFPOOL_PCI_ADDR_MAX] = calloc(h->n_pfs + 1, sizeof(*pci));
	char (*netdev)[VFPOOL_IFNAME_MAX] = calloc(h->n_pfs + 1, sizeof(*netdev));
	char why[300] = "out of memory";
	int r = -ENOMEM;

	if (h->n_pfs <= ctx->policy->n_pfs) {
		free(pci);
		free(netdev);
		return 0;
	}
	/* every change is persisted before it applies: the file is the whole policy, and a new
	 * PF gets what it says of its address (or every network) */
	if (pci && netdev) {
		for (size_t i = 0; i < h->n_pfs; i++) {
			memcpy(pci[i], h->pfs[i].pci_addr, sizeof(pci[i]));
			memcpy(netdev[i], h->pfs[i].netdev, sizeof(netdev[i]));
		}
		r = rebuild(ctx, (uint32_t)h->n_pfs, (const char (*)[VFPOOL_PCI_ADDR_MAX])pci,
			    (const char (*)[VFPOOL_IFNAME_MAX])netdev, NULL, why, sizeof(why));
	}
	free(pci);
	free(netdev);
	if (r)
		log_err("policy_grow_failed", "pfs=%zu error=\"%s\"", h->n_pfs, why);
	return r;
}

int policy_daemon_reload(const struct policy_cmd_ctx *ctx)
{
	const struct policy *live = ctx->policy;
	char (*pci)[VFPOOL_PCI_ADDR_MAX] = calloc(live->n_pfs + 1, sizeof(*pci));
	char (*netdev)[VFPOOL_IFNAME_MAX] = calloc(live->n_pfs + 1, sizeof(*netdev));
	char why[300] = "out of memory";
	unsigned skipped = 0;
	int r = -ENOMEM;

	/* the same PFs, nothing else: what the file says is all the new policy holds */
	if (pci && netdev) {
		for (uint32_t i = 0; i < live->n_pfs; i++) {
			memcpy(pci[i], live->pfs[i].pci_addr, sizeof(pci[i]));
			memcpy(netdev[i], live->pfs[i].netdev, sizeof(netdev[i]));
		}
		r = rebuild(ctx, live->n_pfs, (const char (*)[VFPOOL_PCI_ADDR_MAX])pci,
			    (const char (*)[VFPOOL_IFNAME_MAX])netdev, &skipped, why, sizeof(why));
	}
	free(pci);
	free(netdev);
	if (r) {
		log_err("policy_reload_failed", "state_dir=%s error=\"%s\" kept=\"the policy in use\"",
			ctx->state_dir, why);
		return r;
	}
	log_info("policy_reloaded", "state_dir=%s networks=%u profiles=%u skipped_lines=%u "
		 "generation=%llu", ctx->state_dir, ctx->policy->n_nets, ctx->policy->n_profiles,
		 skipped, (unsigned long long)ctx->policy->generation);
	return 0;
}

void policy_daemon_stop(const struct policy_cmd_ctx *ctx)
{
	ctx->engine->policy = NULL;
	policy_fini(ctx->policy);
}
