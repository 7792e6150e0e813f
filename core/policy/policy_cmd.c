/* SPDX-License-Identifier: MIT */
/* The policy's control commands. Arguments are the peer's: each is checked before use and
 * every refusal names the object and the reason. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/base/parse_uint.h"
#include "core/log.h"
#include "core/policy/policy_cmd.h"
#include "core/policy/policy_store.h"
#include "shm/state.h"

#define WHY_MAX 256

/* "--opt VALUE" at argv[*i]: the value, advancing *i; NULL when it is missing. */
static const char *opt_value(struct ctl_request *req, int *i)
{
	if (*i + 1 >= req->argc)
		return NULL;
	return req->argv[++*i];
}

static int copy_name(struct ctl_request *req, const char *what, const char *s, char *dst,
		     size_t size)
{
	if (!s || !policy_name_valid(s, size)) {
		ctl_reply(req, -EINVAL, "%s %s: must be 1-%zu of [A-Za-z0-9._-]", what,
			  s ? s : "(missing)", size - 1);
		return -EINVAL;
	}
	snprintf(dst, size, "%s", s);
	return 0;
}

/* Persists next, then makes it the daemon's policy and publishes it; replies either way.
 * Persisting first: a change the daemon would forget on restart is not made at all. */
static void commit(struct ctl_request *req, struct policy *next, const char *what)
{
	const struct policy_cmd_ctx *ctx = req->ctx;
	char why[WHY_MAX];
	int r = policy_store_save(ctx->state_dir, next, why, sizeof(why));

	if (r) {
		policy_fini(next);
		log_err("policy_not_saved", "change=\"%s\" error=\"%s\"", what, why);
		ctl_reply(req, r, "%s: not saved: %s", what, why);
		return;
	}
	policy_fini(ctx->policy);
	*ctx->policy = *next;
	/* engine->policy points at ctx->policy, which now holds the new lists */
	policy_daemon_publish(ctx);
	log_info("policy_changed", "change=\"%s\" generation=%llu uid=%u", what,
		 (unsigned long long)ctx->policy->generation, (unsigned)req->cred.uid);
	ctl_reply(req, 0, "%s", what);
}

/* Starts a change: a copy to mutate. */
static int begin(struct ctl_request *req, struct policy *next)
{
	const struct policy_cmd_ctx *ctx = req->ctx;
	int r = policy_copy(next, ctx->policy);

	if (r)
		ctl_reply(req, r, "policy: %s", strerror(-r));
	return r;
}

static void usage(struct ctl_request *req, const char *text)
{
	ctl_reply_usage(req, text);
}

/* ---- networks ------------------------------------------------------------------------- */

#define NETWORK_ADD_USAGE "network add NAME [--vlan N] [--mtu N] [--label L]"

static void cmd_network_add(struct ctl_request *req)
{
	struct policy_network n = { 0 };
	struct policy next;
	char why[WHY_MAX], what[96];
	int r;

	if (req->argc < 1 || copy_name(req, "network", req->argv[0], n.name, sizeof(n.name)))
		return req->argc < 1 ? usage(req, NETWORK_ADD_USAGE) : (void)0;
	for (int i = 1; i < req->argc; i++) {
		const char *o = req->argv[i], *v;
		unsigned num;

		if (strcmp(o, "--required") == 0)
			continue; /* a cluster matter, not a VF matter: accepted and ignored */
		v = opt_value(req, &i);
		if (!v)
			return usage(req, NETWORK_ADD_USAGE);
		if (strcmp(o, "--vlan") == 0) {
			if (parse_uint(v, POLICY_MAX_VLAN, &num))
				return ctl_reply(req, -ERANGE, "network %s: VLAN %s not in 0..%u",
						 n.name, v, POLICY_MAX_VLAN);
			n.vlan = (uint16_t)num;
		} else if (strcmp(o, "--mtu") == 0) {
			if (parse_uint(v, POLICY_MAX_MTU, &num))
				return ctl_reply(req, -ERANGE, "network %s: MTU %s not in 0..%u",
						 n.name, v, POLICY_MAX_MTU);
			n.mtu = num;
		} else if (strcmp(o, "--label") == 0) {
			if (copy_name(req, "label", v, n.label, sizeof(n.label)))
				return;
		} else if (strcmp(o, "--role") == 0) {
			continue; /* management/display/migration: not VF matters */
		} else {
			return usage(req, NETWORK_ADD_USAGE);
		}
	}
	if (begin(req, &next))
		return;
	r = policy_network_add(&next, &n, why, sizeof(why));
	if (r) {
		policy_fini(&next);
		return ctl_reply(req, r, "%s", why);
	}
	snprintf(what, sizeof(what), "network %s added", n.name);
	commit(req, &next, what);
}

static void cmd_network_del(struct ctl_request *req)
{
	struct policy next;
	char why[WHY_MAX], what[96];
	int r;

	if (req->argc != 1)
		return usage(req, "network del NAME");
	if (begin(req, &next))
		return;
	r = policy_network_del(&next, req->argv[0], why, sizeof(why));
	if (r) {
		policy_fini(&next);
		return ctl_reply(req, r, "%s", why);
	}
	snprintf(what, sizeof(what), "network %.40s deleted", req->argv[0]);
	commit(req, &next, what);
}

static void pf_list_of(FILE *f, const struct policy *p, const struct pf_set *s)
{
	bool first = true;

	for (uint32_t i = 0; i < p->n_pfs; i++) {
		if (!pf_set_has(s, i))
			continue;
		fprintf(f, "%s%s", first ? "" : ",",
			p->pfs[i].netdev[0] ? p->pfs[i].netdev : p->pfs[i].pci_addr);
		first = false;
	}
	if (first)
		fprintf(f, "-");
}

/* The PFs of s as a JSON array of their names (netdev, or PCI address without one). */
static struct json_object *pf_list_json(const struct policy *p, const struct pf_set *s)
{
	struct json_object *a = json_object_new_array();

	for (uint32_t i = 0; i < p->n_pfs; i++)
		if (pf_set_has(s, i))
			json_object_array_add(a, json_object_new_string(p->pfs[i].netdev[0] ?
									p->pfs[i].netdev :
									p->pfs[i].pci_addr));
	return a;
}

static void cmd_network_list(struct ctl_request *req)
{
	const struct policy_cmd_ctx *ctx = req->ctx;
	const struct policy *p = ctx->policy;
	struct json_object *list = json_object_new_array();
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f) {
		json_object_put(list);
		return ctl_reply(req, -ENOMEM, "network list: out of memory");
	}
	for (uint32_t i = 0; i < p->n_nets; i++) {
		struct json_object *o = json_object_new_object();

		fprintf(f, "%s vlan=%u mtu=%u label=%s pfs=", p->nets[i].name, p->nets[i].vlan,
			p->nets[i].mtu, p->nets[i].label[0] ? p->nets[i].label : "-");
		pf_list_of(f, p, &p->allowed[i]);
		fputc('\n', f);
		json_object_object_add(o, "name", json_object_new_string(p->nets[i].name));
		json_object_object_add(o, "vlan", json_object_new_int(p->nets[i].vlan));
		json_object_object_add(o, "mtu", json_object_new_int64(p->nets[i].mtu));
		json_object_object_add(o, "label", p->nets[i].label[0] ?
				       json_object_new_string(p->nets[i].label) : NULL);
		json_object_object_add(o, "pfs", pf_list_json(p, &p->allowed[i]));
		json_object_array_add(list, o);
	}
	fclose(f);
	ctl_reply_data(req, 0, list, out);
}

/* ---- profiles ------------------------------------------------------------------------- */

#define PROFILE_PLACE_USAGE \
	" [--placement default|spread|pack] [--numa preferred|required] [--trust on|off]" \
	" [--spoofchk on|off] [--link-state auto|enable|disable] [--max-tx-rate MBPS]" \
	" [--min-tx-rate MBPS]"
#define PROFILE_ADD_USAGE \
	"profile add NAME --network N --passthrough none|mandatory|preferred [--port-mirroring] " \
	"[--qos] [--driver vfio-pci]" PROFILE_PLACE_USAGE
#define PROFILE_SET_USAGE \
	"profile set NAME [--network N] [--passthrough none|mandatory|preferred] " \
	"[--port-mirroring|--no-port-mirroring] [--qos|--no-qos] [--driver vfio-pci|none]" \
	PROFILE_PLACE_USAGE

/* Options over pr; 0, or replied. */
static int profile_opts(struct ctl_request *req, struct policy_profile *pr, bool *ret_has_pt,
			const char *use)
{
	for (int i = 1; i < req->argc; i++) {
		const char *o = req->argv[i], *v;

		if (strcmp(o, "--port-mirroring") == 0 || strcmp(o, "--no-port-mirroring") == 0) {
			pr->port_mirroring = o[2] != 'n';
		} else if (strcmp(o, "--qos") == 0 || strcmp(o, "--no-qos") == 0) {
			pr->qos = o[2] != 'n';
		} else if (strcmp(o, "--network") == 0 && (v = opt_value(req, &i))) {
			if (copy_name(req, "network", v, pr->network, sizeof(pr->network)))
				return -EINVAL;
		} else if (strcmp(o, "--driver") == 0 && (v = opt_value(req, &i))) {
			/* managed vfio-pci binding for the profile's leases (core/vfio) */
			if (strcmp(v, "vfio-pci") != 0 && strcmp(v, "none") != 0) {
				ctl_reply(req, -EINVAL, "profile %s: driver %s is not vfio-pci or none",
					  pr->name, v);
				return -EINVAL;
			}
			pr->vfio = v[0] == 'v';
		} else if (strcmp(o, "--passthrough") == 0 && (v = opt_value(req, &i))) {
			if (policy_parse_passthrough(v, &pr->passthrough)) {
				ctl_reply(req, -EINVAL,
					  "profile %s: passthrough %s is not none, mandatory or preferred",
					  pr->name, v);
				return -EINVAL;
			}
			*ret_has_pt = true;
		} else if (strcmp(o, "--placement") == 0 && (v = opt_value(req, &i))) {
			if (policy_parse_placement(v, &pr->placement)) {
				ctl_reply(req, -EINVAL,
					  "profile %s: placement %s is not default, spread or pack",
					  pr->name, v);
				return -EINVAL;
			}
		} else if ((strcmp(o, "--trust") == 0 || strcmp(o, "--spoofchk") == 0) &&
			   (v = opt_value(req, &i))) {
			if (policy_parse_switch(v, o[2] == 't' ? &pr->trust : &pr->spoofchk)) {
				ctl_reply(req, -EINVAL, "profile %s: %s %s is not on or off",
					  pr->name, o + 2, v);
				return -EINVAL;
			}
		} else if (strcmp(o, "--link-state") == 0 && (v = opt_value(req, &i))) {
			if (policy_parse_link_state(v, &pr->link_state)) {
				ctl_reply(req, -EINVAL,
					  "profile %s: link-state %s is not auto, enable or disable",
					  pr->name, v);
				return -EINVAL;
			}
		} else if ((strcmp(o, "--max-tx-rate") == 0 || strcmp(o, "--min-tx-rate") == 0) &&
			   (v = opt_value(req, &i))) {
			if (parse_uint(v, POLICY_MAX_TX_RATE,
				       o[3] == 'a' ? &pr->max_tx_rate : &pr->min_tx_rate)) {
				ctl_reply(req, -EINVAL,
					  "profile %s: %s %s is not a rate in 0..%u Mbit/s", pr->name,
					  o + 2, v, POLICY_MAX_TX_RATE);
				return -EINVAL;
			}
		} else if (strcmp(o, "--numa") == 0 && (v = opt_value(req, &i))) {
			if (policy_parse_numa(v, &pr->numa)) {
				ctl_reply(req, -EINVAL,
					  "profile %s: numa %s is not preferred or required",
					  pr->name, v);
				return -EINVAL;
			}
		} else {
			usage(req, use);
			return -EINVAL;
		}
	}
	return 0;
}

static void cmd_profile_add(struct ctl_request *req)
{
	struct policy_profile pr = { 0 };
	struct policy next;
	char why[WHY_MAX], what[96];
	bool has_pt = false;
	int r;

	if (req->argc < 1)
		return usage(req, PROFILE_ADD_USAGE);
	if (copy_name(req, "profile", req->argv[0], pr.name, sizeof(pr.name)) ||
	    profile_opts(req, &pr, &has_pt, PROFILE_ADD_USAGE))
		return;
	if (!has_pt || !pr.network[0])
		return usage(req, PROFILE_ADD_USAGE);
	if (begin(req, &next))
		return;
	r = policy_profile_add(&next, &pr, why, sizeof(why));
	if (r) {
		policy_fini(&next);
		return ctl_reply(req, r, "%s", why);
	}
	snprintf(what, sizeof(what), "profile %s added", pr.name);
	commit(req, &next, what);
}

static void cmd_profile_set(struct ctl_request *req)
{
	const struct policy_cmd_ctx *ctx = req->ctx;
	const struct policy_profile *old;
	struct policy_profile pr;
	struct policy next;
	char why[WHY_MAX], what[96];
	bool has_pt = false;
	int r;

	if (req->argc < 1)
		return usage(req, PROFILE_SET_USAGE);
	old = policy_find_profile(ctx->policy, req->argv[0]);
	if (!old)
		return ctl_reply(req, -ENOENT, "profile %.40s: not defined", req->argv[0]);
	pr = *old;
	if (profile_opts(req, &pr, &has_pt, PROFILE_SET_USAGE) || begin(req, &next))
		return;
	r = policy_profile_set(&next, &pr, engine_profile_leases(ctx->engine, pr.name), why,
			       sizeof(why));
	if (r) {
		policy_fini(&next);
		return ctl_reply(req, r, "%s", why);
	}
	snprintf(what, sizeof(what), "profile %s changed", pr.name);
	commit(req, &next, what);
}

static void cmd_profile_del(struct ctl_request *req)
{
	const struct policy_cmd_ctx *ctx = req->ctx;
	struct policy next;
	char why[WHY_MAX], what[96];
	int r;

	if (req->argc != 1)
		return usage(req, "profile del NAME");
	if (begin(req, &next))
		return;
	r = policy_profile_del(&next, req->argv[0],
			       engine_profile_leases(ctx->engine, req->argv[0]), why, sizeof(why));
	if (r) {
		policy_fini(&next);
		return ctl_reply(req, r, "%s", why);
	}
	snprintf(what, sizeof(what), "profile %.40s deleted", req->argv[0]);
	commit(req, &next, what);
}

static void cmd_profile_list(struct ctl_request *req)
{
	const struct policy_cmd_ctx *ctx = req->ctx;
	const struct policy *p = ctx->policy;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	struct json_object *list;

	if (!f)
		return ctl_reply(req, -ENOMEM, "profile list: out of memory");
	list = json_object_new_array();
	for (uint32_t i = 0; i < p->n_profiles; i++) {
		const struct policy_profile *pr = &p->profiles[i];
		unsigned leases = engine_profile_leases(ctx->engine, pr->name);
		struct json_object *o = json_object_new_object();

		fprintf(f, "%s network=%s passthrough=%s port_mirroring=%s qos=%s", pr->name,
			pr->network, policy_passthrough_name(pr->passthrough),
			pr->port_mirroring ? "yes" : "no", pr->qos ? "yes" : "no");
		/* settings at their default are not shown: the line reads as before them */
		policy_profile_render_extras(f, pr);
		fprintf(f, " leases=%u\n", leases);
		json_object_object_add(o, "name", json_object_new_string(pr->name));
		json_object_object_add(o, "network", json_object_new_string(pr->network));
		json_object_object_add(o, "passthrough",
				       json_object_new_string(policy_passthrough_name(pr->passthrough)));
		json_object_object_add(o, "port_mirroring", json_object_new_boolean(pr->port_mirroring));
		json_object_object_add(o, "qos", json_object_new_boolean(pr->qos));
		json_object_object_add(o, "placement",
				       json_object_new_string(policy_placement_name(pr->placement)));
		json_object_object_add(o, "numa", json_object_new_string(policy_numa_name(pr->numa)));
		json_object_object_add(o, "trust",
				       json_object_new_string(policy_switch_name(pr->trust)));
		json_object_object_add(o, "spoofchk",
				       json_object_new_string(policy_switch_name(pr->spoofchk)));
		json_object_object_add(o, "link_state",
				       json_object_new_string(policy_link_state_name(pr->link_state)));
		json_object_object_add(o, "max_tx_rate", json_object_new_int64(pr->max_tx_rate));
		json_object_object_add(o, "min_tx_rate", json_object_new_int64(pr->min_tx_rate));
		json_object_object_add(o, "driver",
				       pr->vfio ? json_object_new_string("vfio-pci") : NULL);
		json_object_object_add(o, "leases", json_object_new_int64(leases));
		json_object_array_add(list, o);
	}
	fclose(f);
	ctl_reply_data(req, 0, list, out);
}

/* ---- PF VFs config -------------------------------------------------------------------- */

/* The PF named by argv[0]; -1 when replied. */
static int pf_arg(struct ctl_request *req)
{
	const struct policy_cmd_ctx *ctx = req->ctx;
	int pf = policy_find_pf(ctx->policy, req->argv[0]);

	if (pf < 0)
		ctl_reply(req, -ENODEV, "%.40s: no such PF on this host", req->argv[0]);
	return pf;
}

static void cmd_pf_config(struct ctl_request *req)
{
	struct policy next;
	char what[96];
	bool on;
	int pf;

	if (req->argc != 3 || strcmp(req->argv[1], "--all-networks") != 0 ||
	    (strcmp(req->argv[2], "on") != 0 && strcmp(req->argv[2], "off") != 0))
		return usage(req, "pf config PF --all-networks on|off");
	on = strcmp(req->argv[2], "on") == 0;
	pf = pf_arg(req);
	if (pf < 0 || begin(req, &next))
		return;
	policy_pf_all_networks(&next, (uint32_t)pf, on);
	snprintf(what, sizeof(what), "%s: all networks %s", req->argv[0],
		 on ? "allowed (network and label lists cleared)" : "no longer allowed");
	commit(req, &next, what);
}

static void pf_list_change(struct ctl_request *req, bool network, bool add)
{
	struct policy next;
	char why[WHY_MAX], what[128];
	int pf, r;

	if (req->argc != 2)
		return usage(req, network ? "pf network add|del PF NETWORK" : "pf label add|del PF LABEL");
	pf = pf_arg(req);
	if (pf < 0 || begin(req, &next))
		return;
	if (network)
		r = policy_pf_network(&next, (uint32_t)pf, req->argv[1], add, why, sizeof(why));
	else
		r = policy_pf_label(&next, (uint32_t)pf, req->argv[1], add, why, sizeof(why));
	if (r) {
		policy_fini(&next);
		return ctl_reply(req, r, "%s", why);
	}
	snprintf(what, sizeof(what), "%.40s: %s %.40s %s", req->argv[0], network ? "network" : "label",
		 req->argv[1], add ? "added" : "removed");
	commit(req, &next, what);
}

static void cmd_pf_network_add(struct ctl_request *req) { pf_list_change(req, true, true); }
static void cmd_pf_network_del(struct ctl_request *req) { pf_list_change(req, true, false); }
static void cmd_pf_label_add(struct ctl_request *req) { pf_list_change(req, false, true); }
static void cmd_pf_label_del(struct ctl_request *req) { pf_list_change(req, false, false); }

static struct json_object *pf_show_json(const struct policy_cmd_ctx *ctx, int pf)
{
	const struct policy *p = ctx->policy;
	const struct policy_pf *c = &p->pfs[pf];
	struct json_object *o = json_object_new_object(), *a;

	json_object_object_add(o, "pf", c->netdev[0] ? json_object_new_string(c->netdev) : NULL);
	json_object_object_add(o, "pci", json_object_new_string(c->pci_addr));
	json_object_object_add(o, "numvfs",
			       json_object_new_int64(state_pfs(ctx->seg->hdr)[pf].num_vfs));
	json_object_object_add(o, "all_networks", json_object_new_boolean(c->all_networks));
	a = json_object_new_array();
	for (uint32_t i = 0; i < c->n_nets; i++)
		json_object_array_add(a, json_object_new_string(c->nets[i]));
	json_object_object_add(o, "networks", a);
	a = json_object_new_array();
	for (uint32_t i = 0; i < c->n_labels; i++)
		json_object_array_add(a, json_object_new_string(c->labels[i]));
	json_object_object_add(o, "labels", a);
	a = json_object_new_array();
	for (uint32_t i = 0; i < p->n_nets; i++)
		if (pf_set_has(&p->allowed[i], (uint32_t)pf))
			json_object_array_add(a, json_object_new_string(p->nets[i].name));
	json_object_object_add(o, "allowed", a);
	return o;
}

static void cmd_pf_show(struct ctl_request *req)
{
	const struct policy_cmd_ctx *ctx = req->ctx;
	const struct policy *p = ctx->policy;
	const struct policy_pf *c;
	char *out = NULL;
	size_t len = 0;
	FILE *f;
	int pf;

	if (req->argc != 1)
		return usage(req, "pf show PF");
	pf = pf_arg(req);
	if (pf < 0)
		return;
	c = &p->pfs[pf];
	f = open_memstream(&out, &len);
	if (!f)
		return ctl_reply(req, -ENOMEM, "pf show: out of memory");
	fprintf(f, "%s pci=%s numvfs=%u all_networks=%s\nnetworks:", c->netdev[0] ? c->netdev : "-",
		c->pci_addr, state_pfs(ctx->seg->hdr)[pf].num_vfs, c->all_networks ? "yes" : "no");
	for (uint32_t i = 0; i < c->n_nets; i++)
		fprintf(f, " %s", c->nets[i]);
	fprintf(f, "\nlabels:");
	for (uint32_t i = 0; i < c->n_labels; i++)
		fprintf(f, " %s", c->labels[i]);
	fprintf(f, "\nallowed:");
	for (uint32_t i = 0; i < p->n_nets; i++)
		if (pf_set_has(&p->allowed[i], (uint32_t)pf))
			fprintf(f, " %s", p->nets[i].name);
	fputc('\n', f);
	fclose(f);
	ctl_reply_data(req, 0, pf_show_json(ctx, pf), out);
}

/* ---- VMs ------------------------------------------------------------------------------ */

static void cmd_vm_migrate_check(struct ctl_request *req)
{
	const struct policy_cmd_ctx *ctx = req->ctx;
	const struct vfpool_state_hdr *hdr = ctx->seg->hdr;
	const struct vfpool_shm_vf *vfs = state_vfs(hdr);
	char list[160] = "";
	size_t off = 0;
	unsigned n = 0;

	if (req->argc != 1)
		return usage(req, "vm migrate-check VM");
	for (uint32_t i = 0; i < hdr->n_vfs; i++) {
		if (vfs[i].state != VFPOOL_VF_LEASED || strcmp(vfs[i].vm_id, req->argv[0]) != 0)
			continue;
		n++;
		if (off < sizeof(list)) {
			int w = snprintf(list + off, sizeof(list) - off, "%s%s (%s)", n > 1 ? ", " : "",
					 vfs[i].pci_addr, vfs[i].vnic_id);
			if (w > 0)
				off += (size_t)w;
		}
	}
	if (n)
		return ctl_reply(req, -EBUSY, "%.64s: holds %u VF%s: %s; a VM with VFs cannot migrate",
				 req->argv[0], n, n == 1 ? "" : "s", list);
	ctl_reply(req, 0, "%.64s: holds no VF; migration allowed", req->argv[0]);
}

const struct ctl_command policy_commands[] = {
	{ { "network", "add" }, true, cmd_network_add, NETWORK_ADD_USAGE },
	{ { "network", "del" }, true, cmd_network_del, "network del NAME" },
	{ { "network", "list" }, false, cmd_network_list, "network list: networks and the PFs allowed to serve each" },
	{ { "profile", "add" }, true, cmd_profile_add, PROFILE_ADD_USAGE },
	{ { "profile", "set" }, true, cmd_profile_set, PROFILE_SET_USAGE },
	{ { "profile", "del" }, true, cmd_profile_del, "profile del NAME" },
	{ { "profile", "list" }, false, cmd_profile_list, "profile list" },
	{ { "pf", "config" }, true, cmd_pf_config, "pf config PF --all-networks on|off" },
	{ { "pf", "network", "add" }, true, cmd_pf_network_add, "pf network add PF NETWORK" },
	{ { "pf", "network", "del" }, true, cmd_pf_network_del, "pf network del PF NETWORK" },
	{ { "pf", "label", "add" }, true, cmd_pf_label_add, "pf label add PF LABEL" },
	{ { "pf", "label", "del" }, true, cmd_pf_label_del, "pf label del PF LABEL" },
	{ { "pf", "show" }, false, cmd_pf_show, "pf show PF: VFs config and allowed networks" },
	{ { "vm", "migrate-check" }, false, cmd_vm_migrate_check, "vm migrate-check VM: refused while the VM holds VFs" },
	{ { NULL } },
};
