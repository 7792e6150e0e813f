/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/parse_uint.h"
#include "core/base/reason.h"
#include "core/host/pf_select_cmd.h"
#include "core/host/pf_selector_store.h"
#include "core/log.h"
#include "shm/state.h"

int pf_selectors_load(const char *state_dir, struct pf_selectors *ret)
{
	char why[512];
	int r = pf_selector_store_load(state_dir, ret, why, sizeof(why));

	if (r)
		log_err("start_failed", "error=\"PF selectors: %s\"", why);
	return r;
}

static bool model_has_vf(const struct host *h, const char *pci)
{
	for (size_t i = 0; i < h->n_vfs; i++)
		if (strcmp(h->vfs[i].pci_addr, pci) == 0)
			return true;
	return false;
}

/* Whether sel may replace the current selectors: no leased VF may become unmanaged. */
static int judge(struct pf_select_cmd_ctx *ctx, const struct pf_selectors *sel, char *why,
		 size_t len)
{
	const struct vfpool_state_hdr *hdr = ctx->engine->hdr;
	struct host *next = NULL;
	int r = host_watch_discover(ctx->watch, sel, &next, NULL);

	if (r < 0)
		return reason_err(r, why, len, "discovery: %s", strerror(-r));
	for (uint32_t slot = 0; slot < hdr->n_vfs; slot++) {
		const struct vfpool_shm_vf *rec = &state_vfs(hdr)[slot];

		if (rec->state != VFPOOL_VF_LEASED || !rec->pci_addr[0] ||
		    model_has_vf(next, rec->pci_addr))
			continue;
		r = reason_err(-EBUSY, why, len, "%s is leased to %s/%s and would be unmanaged: "
			       "release it first", rec->pci_addr, rec->vm_id, rec->vnic_id);
		break;
	}
	host_free(next);
	return r;
}

/* Judge, persist, apply: what every change goes through. */
static int change(struct pf_select_cmd_ctx *ctx, const struct pf_selectors *sel, bool persist,
		  char *why, size_t len)
{
	int r = judge(ctx, sel, why, len);

	if (r)
		return r;
	if (persist) {
		r = pf_selector_store_save(ctx->state_dir, sel, why, len);
		if (r)
			return r;
	}
	r = host_watch_select(ctx->watch, sel);
	if (r)
		return reason_err(r, why, len, "applying: %s", strerror(-r));
	log_info("pf_selectors_changed", "selectors=%u unmanaged_pfs=%u", sel->n,
		 host_watch_unmanaged_pfs(ctx->watch));
	return 0;
}

int pf_selectors_reload(struct pf_select_cmd_ctx *ctx)
{
	struct pf_selectors *sel;
	char why[512];
	int r;

	if (!ctx->watch)
		return 0;
	sel = malloc(sizeof(*sel));
	if (!sel)
		return -ENOMEM;
	r = pf_selector_store_load(ctx->state_dir, sel, why, sizeof(why));
	if (!r)
		r = change(ctx, sel, false, why, sizeof(why));
	if (r)
		log_err("pf_selectors_reload_refused", "error=\"%s\" reason=\"the current "
			"selectors stay\"", why);
	free(sel);
	return r;
}

static bool simulated(struct ctl_request *req)
{
	struct pf_select_cmd_ctx *ctx = req->ctx;

	if (ctx->watch)
		return false;
	ctl_reply(req, -EOPNOTSUPP, "pf select: a simulated host (--simulate) has no PF "
		  "selectors");
	return true;
}

static void cmd_list(struct ctl_request *req)
{
	struct pf_select_cmd_ctx *ctx = req->ctx;
	const struct pf_selectors *sel;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (simulated(req))
		return;
	if (req->argc != 0)
		return ctl_reply_usage(req, "pf select list");
	sel = host_watch_selectors(ctx->watch);
	f = open_memstream(&text, &len);
	if (!f)
		return ctl_reply(req, -ENOMEM, "pf select list: out of memory");
	/* one selector a line, its index first: vfpoolctl turns these into JSON */
	for (unsigned i = 0; i < sel->n; i++) {
		char t[PF_SEL_TEXT_MAX];

		pf_selector_format(&sel->sel[i], t);
		fprintf(f, "%u %s\n", i, t);
	}
	if (!pf_selectors_has_include(sel))
		fprintf(f, "default %s\n", PF_SEL_DEFAULT);
	fprintf(f, "unmanaged-pfs %u\n", host_watch_unmanaged_pfs(ctx->watch));
	if (fclose(f) != 0) {
		free(text);
		return ctl_reply(req, -ENOMEM, "pf select list: out of memory");
	}
	ctl_reply_take(req, 0, text);
}

static void cmd_add(struct ctl_request *req)
{
	struct pf_select_cmd_ctx *ctx = req->ctx;
	struct pf_selectors *sel;
	struct pf_selector s;
	char text[PF_SEL_TEXT_MAX], why[512];
	bool exclude = false;
	size_t off;
	int r;

	if (simulated(req))
		return;
	for (int i = 0; i < req->argc; i++)
		exclude |= strcmp(req->argv[i], "--exclude") == 0;
	off = (size_t)snprintf(text, sizeof(text), "%s", exclude ? "exclude" : "include");
	for (int i = 0; i < req->argc && off < sizeof(text); i++)
		if (strcmp(req->argv[i], "--exclude") != 0)
			off += (size_t)snprintf(text + off, sizeof(text) - off, " %s", req->argv[i]);
	if (off >= sizeof(text))
		return ctl_reply(req, -EINVAL, "pf select add: selector longer than %d characters",
				 PF_SEL_TEXT_MAX - 1);
	r = pf_selector_parse(text, &s, why, sizeof(why));
	if (r)
		return ctl_reply(req, r, "pf select add: %s", why);
	sel = malloc(sizeof(*sel));
	if (!sel)
		return ctl_reply(req, -ENOMEM, "pf select add: out of memory");
	*sel = *host_watch_selectors(ctx->watch);
	r = pf_selectors_add(sel, &s);
	pf_selector_format(&s, text);
	if (r == -EEXIST)
		ctl_reply(req, r, "%s: already a selector", text);
	else if (r == -ENOSPC)
		ctl_reply(req, r, "%s: not added: %u selectors, the most", text, PF_SEL_MAX);
	else if ((r = change(ctx, sel, true, why, sizeof(why))) != 0)
		ctl_reply(req, r, "%s: not added: %s", text, why);
	else
		ctl_reply(req, 0, "%u %s", sel->n - 1, text);
	free(sel);
}

static void cmd_del(struct ctl_request *req)
{
	struct pf_select_cmd_ctx *ctx = req->ctx;
	struct pf_selectors *sel;
	char text[PF_SEL_TEXT_MAX], why[512];
	unsigned index;
	int r;

	if (simulated(req))
		return;
	if (req->argc != 1 || parse_uint(req->argv[0], PF_SEL_MAX, &index) < 0)
		return ctl_reply_usage(req, "pf select del INDEX (pf select list)");
	sel = malloc(sizeof(*sel));
	if (!sel)
		return ctl_reply(req, -ENOMEM, "pf select del: out of memory");
	*sel = *host_watch_selectors(ctx->watch);
	if (index < sel->n)
		pf_selector_format(&sel->sel[index], text);
	r = pf_selectors_del(sel, index);
	if (r)
		ctl_reply(req, -ENOENT, "selector %u: none (%u selectors)", index, sel->n);
	else if ((r = change(ctx, sel, true, why, sizeof(why))) != 0)
		ctl_reply(req, r, "%s: not deleted: %s", text, why);
	else
		ctl_reply(req, 0, "deleted: %s", text);
	free(sel);
}

const struct ctl_command pf_select_commands[] = {
	{ { "pf", "select", "list" }, false, cmd_list,
	  "pf select list: the PF selectors (which PFs and VFs vfpool manages)" },
	{ { "pf", "select", "add" }, true, cmd_add,
	  "pf select add [--exclude] id=V:D driver=G pf=G[#0-3,6] pci=G class=HEX vfs=0-3,6: "
	  "add a selector; persisted" },
	{ { "pf", "select", "del" }, true, cmd_del,
	  "pf select del INDEX: delete a selector; persisted" },
	{ { NULL } },
};
