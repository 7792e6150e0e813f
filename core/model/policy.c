/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/reason.h"
#include "core/model/policy.h"

int policy_init(struct policy *p, uint32_t n_pfs, const char (*pci)[VFPOOL_PCI_ADDR_MAX],
		const char (*netdev)[VFPOOL_IFNAME_MAX])
{
	memset(p, 0, sizeof(*p));
	if (n_pfs > POOL_MAX_PFS)
		return -E2BIG;
	p->nets = calloc(POLICY_MAX_NETWORKS, sizeof(*p->nets));
	p->allowed = calloc(POLICY_MAX_NETWORKS, sizeof(*p->allowed));
	p->profiles = calloc(POLICY_MAX_PROFILES, sizeof(*p->profiles));
	p->pfs = calloc(n_pfs ? n_pfs : 1, sizeof(*p->pfs));
	if (!p->nets || !p->allowed || !p->profiles || !p->pfs) {
		policy_fini(p);
		return -ENOMEM;
	}
	p->n_pfs = n_pfs;
	for (uint32_t i = 0; i < n_pfs; i++) {
		if (pci)
			memcpy(p->pfs[i].pci_addr, pci[i], sizeof(p->pfs[i].pci_addr));
		if (netdev)
			memcpy(p->pfs[i].netdev, netdev[i], sizeof(p->pfs[i].netdev));
		p->pfs[i].pci_addr[VFPOOL_PCI_ADDR_MAX - 1] = '\0';
		p->pfs[i].netdev[VFPOOL_IFNAME_MAX - 1] = '\0';
		p->pfs[i].all_networks = true;
	}
	return 0;
}

void policy_fini(struct policy *p)
{
	free(p->nets);
	free(p->allowed);
	free(p->profiles);
	free(p->pfs);
	memset(p, 0, sizeof(*p));
}

int policy_copy(struct policy *dst, const struct policy *src)
{
	int r = policy_init(dst, src->n_pfs, NULL, NULL);

	if (r)
		return r;
	memcpy(dst->nets, src->nets, POLICY_MAX_NETWORKS * sizeof(*dst->nets));
	memcpy(dst->allowed, src->allowed, POLICY_MAX_NETWORKS * sizeof(*dst->allowed));
	memcpy(dst->profiles, src->profiles, POLICY_MAX_PROFILES * sizeof(*dst->profiles));
	memcpy(dst->pfs, src->pfs, (src->n_pfs ? src->n_pfs : 1) * sizeof(*dst->pfs));
	dst->n_nets = src->n_nets;
	dst->n_profiles = src->n_profiles;
	dst->generation = src->generation;
	return 0;
}

const char *policy_passthrough_name(enum policy_passthrough pt)
{
	switch (pt) {
	case POLICY_PT_NONE: return "none";
	case POLICY_PT_MANDATORY: return "mandatory";
	case POLICY_PT_PREFERRED: return "preferred";
	}
	return "?";
}

int policy_parse_passthrough(const char *s, enum policy_passthrough *ret_pt)
{
	for (int i = POLICY_PT_NONE; i <= POLICY_PT_PREFERRED; i++) {
		if (strcmp(s, policy_passthrough_name((enum policy_passthrough)i)) == 0) {
			*ret_pt = (enum policy_passthrough)i;
			return 0;
		}
	}
	return -EINVAL;
}

static const char *const placement_names[] = {
	[POLICY_PLACE_DAEMON] = "default",
	[POLICY_PLACE_SPREAD] = "spread",
	[POLICY_PLACE_PACK] = "pack",
};

static const char *const numa_names[] = {
	[POLICY_NUMA_PREFERRED] = "preferred",
	[POLICY_NUMA_REQUIRED] = "required",
};

static int parse_word(const char *s, const char *const *names, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

const char *policy_placement_name(enum policy_placement pl)
{
	return (unsigned)pl < N_OF(placement_names) ? placement_names[pl] : "?";
}

int policy_parse_placement(const char *s, enum policy_placement *ret_pl)
{
	int i = parse_word(s, placement_names, N_OF(placement_names));

	if (i < 0)
		return i;
	*ret_pl = (enum policy_placement)i;
	return 0;
}

const char *policy_numa_name(enum policy_numa numa)
{
	return (unsigned)numa < N_OF(numa_names) ? numa_names[numa] : "?";
}

int policy_parse_numa(const char *s, enum policy_numa *ret_numa)
{
	int i = parse_word(s, numa_names, N_OF(numa_names));

	if (i < 0)
		return i;
	*ret_numa = (enum policy_numa)i;
	return 0;
}

static const char *const switch_names[] = {
	[POLICY_SWITCH_DEFAULT] = "default",
	[POLICY_SWITCH_ON] = "on",
	[POLICY_SWITCH_OFF] = "off",
};

static const char *const link_names[] = {
	[POLICY_LINK_AUTO] = "auto",
	[POLICY_LINK_ENABLE] = "enable",
	[POLICY_LINK_DISABLE] = "disable",
};

const char *policy_switch_name(enum policy_switch sw)
{
	return (unsigned)sw < N_OF(switch_names) ? switch_names[sw] : "?";
}

int policy_parse_switch(const char *s, enum policy_switch *ret_sw)
{
	int i = parse_word(s, switch_names, N_OF(switch_names));

	if (i <= 0)
		return -EINVAL;
	*ret_sw = (enum policy_switch)i;
	return 0;
}

const char *policy_link_state_name(enum policy_link_state ls)
{
	return (unsigned)ls < N_OF(link_names) ? link_names[ls] : "?";
}

int policy_parse_link_state(const char *s, enum policy_link_state *ret_ls)
{
	int i = parse_word(s, link_names, N_OF(link_names));

	if (i < 0)
		return i;
	*ret_ls = (enum policy_link_state)i;
	return 0;
}

bool policy_profile_vf_setting(const struct policy_profile *pr, char *buf, size_t len)
{
	if (pr->trust != POLICY_SWITCH_DEFAULT)
		snprintf(buf, len, "trust %s", policy_switch_name(pr->trust));
	else if (pr->spoofchk != POLICY_SWITCH_DEFAULT)
		snprintf(buf, len, "spoofchk %s", policy_switch_name(pr->spoofchk));
	else if (pr->link_state != POLICY_LINK_AUTO)
		snprintf(buf, len, "link-state %s", policy_link_state_name(pr->link_state));
	else if (pr->max_tx_rate)
		snprintf(buf, len, "max-tx-rate %u", pr->max_tx_rate);
	else if (pr->min_tx_rate)
		snprintf(buf, len, "min-tx-rate %u", pr->min_tx_rate);
	else
		return false;
	return true;
}

bool policy_name_valid(const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	if (n == 0 || n == size)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

static int network_index(const struct policy *p, const char *name)
{
	for (uint32_t i = 0; i < p->n_nets; i++)
		if (strcmp(p->nets[i].name, name) == 0)
			return (int)i;
	return -ENOENT;
}

static int profile_index(const struct policy *p, const char *name)
{
	for (uint32_t i = 0; i < p->n_profiles; i++)
		if (strcmp(p->profiles[i].name, name) == 0)
			return (int)i;
	return -ENOENT;
}

const struct policy_network *policy_find_network(const struct policy *p, const char *name)
{
	int i = network_index(p, name);

	return i < 0 ? NULL : &p->nets[i];
}

const struct policy_profile *policy_find_profile(const struct policy *p, const char *name)
{
	int i = profile_index(p, name);

	return i < 0 ? NULL : &p->profiles[i];
}

int policy_find_pf(const struct policy *p, const char *name)
{
	for (uint32_t i = 0; i < p->n_pfs; i++)
		if ((p->pfs[i].netdev[0] && strcmp(p->pfs[i].netdev, name) == 0) ||
		    strcmp(p->pfs[i].pci_addr, name) == 0)
			return (int)i;
	return -ENOENT;
}

static const char *pf_name(const struct policy_pf *pf)
{
	return pf->netdev[0] ? pf->netdev : pf->pci_addr;
}

static bool pf_lists(const char (*list)[POLICY_NAME_MAX], uint32_t n, const char *s)
{
	for (uint32_t i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

static bool pf_allows(const struct policy_pf *pf, const struct policy_network *n)
{
	if (pf->all_networks || pf_lists(pf->nets, pf->n_nets, n->name))
		return true;
	return n->label[0] && pf_lists(pf->labels, pf->n_labels, n->label);
}

void policy_recompute(struct policy *p)
{
	for (uint32_t n = 0; n < p->n_nets; n++) {
		memset(&p->allowed[n], 0, sizeof(p->allowed[n]));
		for (uint32_t f = 0; f < p->n_pfs; f++)
			if (pf_allows(&p->pfs[f], &p->nets[n]))
				pf_set_add(&p->allowed[n], f);
	}
	p->generation++;
}

const struct pf_set *policy_allowed(const struct policy *p, const char *network)
{
	int i = network_index(p, network);

	return i < 0 ? NULL : &p->allowed[i];
}

int policy_network_add(struct policy *p, const struct policy_network *n, char *why, size_t len)
{
	if (!policy_name_valid(n->name, sizeof(n->name)))
		return reason_err(-EINVAL, why, len, "network name must be 1-31 of [A-Za-z0-9._-]");
	if (n->label[0] && !policy_name_valid(n->label, sizeof(n->label)))
		return reason_err(-EINVAL, why, len,
				  "network %s: label must be 1-31 of [A-Za-z0-9._-]", n->name);
	if (n->vlan > POLICY_MAX_VLAN)
		return reason_err(-ERANGE, why, len, "network %s: VLAN %u not in 0..%u", n->name,
				  n->vlan, POLICY_MAX_VLAN);
	if (n->mtu > POLICY_MAX_MTU || (n->mtu && n->mtu < 68))
		return reason_err(-ERANGE, why, len, "network %s: MTU %u not 0 or 68..%u", n->name,
				  n->mtu, POLICY_MAX_MTU);
	if (network_index(p, n->name) >= 0)
		return reason_err(-EEXIST, why, len, "network %s: already defined", n->name);
	if (p->n_nets == POLICY_MAX_NETWORKS)
		return reason_err(-ENOSPC, why, len, "network %s: %u networks already defined",
				  n->name, POLICY_MAX_NETWORKS);
	p->nets[p->n_nets++] = *n;
	policy_recompute(p);
	return 0;
}

static void list_remove(char (*list)[POLICY_NAME_MAX], uint32_t *n, const char *s)
{
	for (uint32_t i = 0; i < *n; i++) {
		if (strcmp(list[i], s) == 0) {
			memmove(list[i], list[i + 1], (size_t)(*n - i - 1) * sizeof(list[0]));
			(*n)--;
			return;
		}
	}
}

int policy_network_del(struct policy *p, const char *name, char *why, size_t len)
{
	int i = network_index(p, name);

	if (i < 0)
		return reason_err(-ENOENT, why, len, "network %s: not defined", name);
	for (uint32_t k = 0; k < p->n_profiles; k++)
		if (strcmp(p->profiles[k].network, name) == 0)
			return reason_err(-EBUSY, why, len, "network %s: used by profile %s", name,
					  p->profiles[k].name);
	for (uint32_t f = 0; f < p->n_pfs; f++)
		list_remove(p->pfs[f].nets, &p->pfs[f].n_nets, name);
	memmove(&p->nets[i], &p->nets[i + 1], (p->n_nets - (uint32_t)i - 1) * sizeof(p->nets[0]));
	p->n_nets--;
	policy_recompute(p);
	return 0;
}

/* The design page's rules for a profile's own fields. */
static int check_profile(const struct policy *p, const struct policy_profile *pr, char *why,
			 size_t len)
{
	char what[48];

	if (!policy_name_valid(pr->name, sizeof(pr->name)))
		return reason_err(-EINVAL, why, len, "profile name must be 1-31 of [A-Za-z0-9._-]");
	if (network_index(p, pr->network) < 0)
		return reason_err(-ENOENT, why, len, "profile %s: network %s not defined", pr->name,
				  pr->network);
	if (pr->passthrough != POLICY_PT_NONE && pr->port_mirroring && pr->qos)
		return reason_err(-EINVAL, why, len,
				  "profile %s: a passthrough profile cannot have port mirroring nor QoS",
				  pr->name);
	if (pr->passthrough != POLICY_PT_NONE && pr->port_mirroring)
		return reason_err(-EINVAL, why, len,
				  "profile %s: a passthrough profile cannot have port mirroring",
				  pr->name);
	if (pr->passthrough != POLICY_PT_NONE && pr->qos)
		return reason_err(-EINVAL, why, len,
				  "profile %s: a passthrough profile cannot have QoS", pr->name);
	if (pr->passthrough == POLICY_PT_NONE && policy_profile_vf_setting(pr, what, sizeof(what)))
		return reason_err(-EINVAL, why, len,
				  "profile %s: not passthrough, no VF to carry %s", pr->name, what);
	if (pr->max_tx_rate > POLICY_MAX_TX_RATE || pr->min_tx_rate > POLICY_MAX_TX_RATE)
		return reason_err(-ERANGE, why, len, "profile %s: TX rate above %u Mbit/s",
				  pr->name, POLICY_MAX_TX_RATE);
	if (pr->max_tx_rate && pr->min_tx_rate > pr->max_tx_rate)
		return reason_err(-ERANGE, why, len,
				  "profile %s: min TX rate %u above max TX rate %u Mbit/s", pr->name,
				  pr->min_tx_rate, pr->max_tx_rate);
	return 0;
}

int policy_profile_add(struct policy *p, const struct policy_profile *pr, char *why, size_t len)
{
	int r = check_profile(p, pr, why, len);

	if (r)
		return r;
	if (profile_index(p, pr->name) >= 0)
		return reason_err(-EEXIST, why, len, "profile %s: already defined", pr->name);
	if (p->n_profiles == POLICY_MAX_PROFILES)
		return reason_err(-ENOSPC, why, len, "profile %s: %u profiles already defined",
				  pr->name, POLICY_MAX_PROFILES);
	p->profiles[p->n_profiles++] = *pr;
	policy_recompute(p);
	return 0;
}

int policy_profile_set(struct policy *p, const struct policy_profile *pr, unsigned leases,
		       char *why, size_t len)
{
	int i = profile_index(p, pr->name), r;
	const struct policy_profile *old;

	if (i < 0)
		return reason_err(-ENOENT, why, len, "profile %s: not defined", pr->name);
	old = &p->profiles[i];
	/* the QoS rule, stated the way the operator meets it: making a QoS profile passthrough */
	if (old->qos && pr->qos && old->passthrough == POLICY_PT_NONE &&
	    pr->passthrough != POLICY_PT_NONE)
		return reason_err(-EINVAL, why, len,
				  "profile %s: has VM QoS, cannot be made passthrough", pr->name);
	r = check_profile(p, pr, why, len);
	if (r)
		return r;
	if (old->passthrough != pr->passthrough && leases)
		return reason_err(-EBUSY, why, len,
			"profile %s: passthrough mode cannot change while %u lease%s use%s it",
			pr->name, leases, leases == 1 ? "" : "s", leases == 1 ? "s" : "");
	p->profiles[i] = *pr;
	policy_recompute(p);
	return 0;
}

int policy_profile_del(struct policy *p, const char *name, unsigned leases, char *why, size_t len)
{
	int i = profile_index(p, name);

	if (i < 0)
		return reason_err(-ENOENT, why, len, "profile %s: not defined", name);
	if (leases)
		return reason_err(-EBUSY, why, len, "profile %s: %u lease%s use%s it", name, leases,
				  leases == 1 ? "" : "s", leases == 1 ? "s" : "");
	memmove(&p->profiles[i], &p->profiles[i + 1],
		(p->n_profiles - (uint32_t)i - 1) * sizeof(p->profiles[0]));
	p->n_profiles--;
	policy_recompute(p);
	return 0;
}

int policy_pf_all_networks(struct policy *p, uint32_t pf, bool on)
{
	if (pf >= p->n_pfs)
		return -ERANGE;
	p->pfs[pf].all_networks = on;
	if (on) {
		/* the design page: allowing all networks clears both lists */
		p->pfs[pf].n_nets = 0;
		p->pfs[pf].n_labels = 0;
	}
	policy_recompute(p);
	return 0;
}

/* A PF's network list or label list: the same rules (design page: no additions while all
 * networks are allowed, no duplicates), different words and checks. */
_Static_assert(VFPOOL_LABEL_MAX == POLICY_NAME_MAX, "label and network lists share one row type");

struct pf_list {
	const char *kind;             /* "network", "label" */
	char (*items)[POLICY_NAME_MAX];
	uint32_t *n, max;
};

static int pf_list_edit(struct policy *p, struct policy_pf *f, const struct pf_list *l,
			const char *item, bool add, char *why, size_t len)
{
	if (!add) {
		if (!pf_lists(l->items, *l->n, item))
			return reason_err(-ENOENT, why, len, "%s: %s %s not in its list",
					  pf_name(f), l->kind, item);
		list_remove(l->items, l->n, item);
		policy_recompute(p);
		return 0;
	}
	if (f->all_networks)
		return reason_err(-EINVAL, why, len,
				  "%s: all networks allowed; %s %s cannot be added", pf_name(f),
				  l->kind, item);
	if (pf_lists(l->items, *l->n, item))
		return reason_err(-EEXIST, why, len, "%s: %s %s already in its list", pf_name(f),
				  l->kind, item);
	if (*l->n == l->max)
		return reason_err(-ENOSPC, why, len, "%s: %u %ss already listed", pf_name(f),
				  l->max, l->kind);
	snprintf(l->items[(*l->n)++], POLICY_NAME_MAX, "%s", item);
	policy_recompute(p);
	return 0;
}

int policy_pf_network(struct policy *p, uint32_t pf, const char *net, bool add, char *why,
		      size_t len)
{
	struct policy_pf *f;

	if (pf >= p->n_pfs)
		return -ERANGE;
	f = &p->pfs[pf];
	if (add && !f->all_networks && network_index(p, net) < 0)
		return reason_err(-ENOENT, why, len, "%s: network %s not defined", pf_name(f), net);
	return pf_list_edit(p, f, &(struct pf_list){ "network", f->nets, &f->n_nets,
						     POLICY_PF_MAX_NETS },
			    net, add, why, len);
}

int policy_pf_label(struct policy *p, uint32_t pf, const char *label, bool add, char *why,
		    size_t len)
{
	struct policy_pf *f;

	if (pf >= p->n_pfs)
		return -ERANGE;
	f = &p->pfs[pf];
	if (add && !f->all_networks && !policy_name_valid(label, VFPOOL_LABEL_MAX))
		return reason_err(-EINVAL, why, len, "%s: label must be 1-31 of [A-Za-z0-9._-]",
				  pf_name(f));
	return pf_list_edit(p, f, &(struct pf_list){ "label", f->labels, &f->n_labels,
						     POLICY_PF_MAX_LABELS },
			    label, add, why, len);
}

void policy_publish(const struct policy *p, struct vfpool_shm_network *table, uint32_t capacity,
		    uint32_t *ret_n)
{
	uint32_t n = p->n_nets < capacity ? p->n_nets : capacity;

	for (uint32_t i = 0; i < n; i++) {
		struct vfpool_shm_network *t = &table[i];

		memset(t, 0, sizeof(*t));
		memcpy(t->name, p->nets[i].name, sizeof(t->name));
		memcpy(t->label, p->nets[i].label, sizeof(t->label));
		t->vlan = p->nets[i].vlan;
		t->mtu = p->nets[i].mtu;
		_Static_assert(sizeof(t->pf_allowed) == sizeof(p->allowed[i].bits), "PF bitset");
		memcpy(t->pf_allowed, p->allowed[i].bits, sizeof(t->pf_allowed));
	}
	*ret_n = n;
}
