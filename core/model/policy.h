/* SPDX-License-Identifier: MIT */
/*
 * Policy: networks, vNIC profiles and each PF's VFs config, and the rules of the oVirt
 * SR-IOV design that bind them. Pure functions on plain structs: no I/O, no logging, no
 * daemon; every refusal is a negative errno plus a message naming the objects
 * ("ens1f0: all networks allowed; network red cannot be added").
 *
 * Which PFs may serve a network: those listing it, those listing its label, those allowing
 * all networks. The policy keeps that answer as a pf_set per network (policy_allowed),
 * recomputed on every change, so an allocation never sees a stale list.
 *
 * Management/display/migration roles and "required" are not VF matters: not modelled.
 */
#ifndef VFPOOL_CORE_POLICY_H
#define VFPOOL_CORE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/model/pool.h"
#include "shm/layout.h"

#define POLICY_NAME_MAX      VFPOOL_NETWORK_MAX /* networks, profiles (NUL included) */
#define POLICY_MAX_NETWORKS  VFPOOL_MAX_NETWORKS
#define POLICY_MAX_PROFILES  256u
#define POLICY_PF_MAX_NETS   64u
#define POLICY_PF_MAX_LABELS 16u
#define POLICY_MAX_MTU       65535u
#define POLICY_MAX_VLAN      4094u

enum policy_passthrough {
	POLICY_PT_NONE = 0,      /* a bridge vNIC: no VF */
	POLICY_PT_MANDATORY = 1, /* a VF or a failure */
	POLICY_PT_PREFERRED = 2, /* a VF if one is eligible, else the bridge */
};

struct policy_network {
	char name[POLICY_NAME_MAX];
	char label[VFPOOL_LABEL_MAX]; /* "" when none */
	uint16_t vlan;                /* 0: untagged */
	uint32_t mtu;                 /* 0: default */
};

/* Where a profile's VFs are placed (core/model/placement.h). */
enum policy_placement {
	POLICY_PLACE_DAEMON = 0, /* the daemon's --placement */
	POLICY_PLACE_SPREAD = 1,
	POLICY_PLACE_PACK = 2,
};

/* What a request's NUMA node means for a profile's VF. */
enum policy_numa {
	POLICY_NUMA_PREFERRED = 0, /* a VF on that node if one is free, else anywhere */
	POLICY_NUMA_REQUIRED = 1,  /* on that node or none (the bridge for "preferred") */
};

/* A VF setting a profile may leave at the daemon's default. */
enum policy_switch {
	POLICY_SWITCH_DEFAULT = 0, /* trust off, spoofchk on */
	POLICY_SWITCH_ON = 1,
	POLICY_SWITCH_OFF = 2,
};

/* The VF's link state as the VM sees it (IFLA_VF_LINK_STATE_*). */
enum policy_link_state {
	POLICY_LINK_AUTO = 0,    /* follows the PF's link (the default) */
	POLICY_LINK_ENABLE = 1,  /* always up */
	POLICY_LINK_DISABLE = 2, /* always down */
};

#define POLICY_MAX_TX_RATE 10000000u /* Mbit/s: 10 Tbit/s */

struct policy_profile {
	char name[POLICY_NAME_MAX];
	char network[POLICY_NAME_MAX];
	enum policy_passthrough passthrough;
	bool port_mirroring;
	bool qos;
	bool vfio; /* its leases' VFs bound to vfio-pci by vfpool (core/vfio; issue 15) */
	enum policy_placement placement;
	enum policy_numa numa;
	/* The VF's own settings, applied with each lease and restored at its end: a
	 * passthrough profile's (a bridge vNIC has no VF to carry them) */
	enum policy_switch trust, spoofchk;
	enum policy_link_state link_state;
	uint32_t max_tx_rate, min_tx_rate; /* Mbit/s, 0: unlimited */
};

/* A PF's VFs config. The number of VFs is the numvfs path's (core/numvfs/numvfs.h). */
struct policy_pf {
	char pci_addr[VFPOOL_PCI_ADDR_MAX]; /* the key that survives renames */
	char netdev[VFPOOL_IFNAME_MAX];     /* for messages and commands */
	bool all_networks;
	uint32_t n_nets, n_labels;
	char nets[POLICY_PF_MAX_NETS][POLICY_NAME_MAX];
	char labels[POLICY_PF_MAX_LABELS][VFPOOL_LABEL_MAX];
};

struct policy {
	struct policy_network *nets; /* [POLICY_MAX_NETWORKS] */
	uint32_t n_nets;
	struct policy_profile *profiles; /* [POLICY_MAX_PROFILES] */
	uint32_t n_profiles;
	struct policy_pf *pfs; /* one per host PF, same index */
	uint32_t n_pfs;
	struct pf_set *allowed; /* per network, same index as nets */
	uint64_t generation;    /* bumped on every change */
};

/* PFs come in host order (index = PF index everywhere); pci and netdev may be NULL (filled
 * later). A new PF allows all networks, as
 * oVirt's default VFs config does. */
int policy_init(struct policy *p, uint32_t n_pfs, const char (*pci)[VFPOOL_PCI_ADDR_MAX],
		const char (*netdev)[VFPOOL_IFNAME_MAX]);
void policy_fini(struct policy *p);
/* A deep copy, for changes that must be persisted before they take effect. */
int policy_copy(struct policy *dst, const struct policy *src);

const char *policy_passthrough_name(enum policy_passthrough pt);
int policy_parse_passthrough(const char *s, enum policy_passthrough *ret_pt);
/* "default" (the daemon's), "spread", "pack" */
const char *policy_placement_name(enum policy_placement pl);
int policy_parse_placement(const char *s, enum policy_placement *ret_pl);
/* "preferred", "required" */
const char *policy_numa_name(enum policy_numa numa);
int policy_parse_numa(const char *s, enum policy_numa *ret_numa);
/* "on", "off" (never DEFAULT: a switch named is set) */
int policy_parse_switch(const char *s, enum policy_switch *ret_sw);
const char *policy_switch_name(enum policy_switch sw);
/* "auto", "enable", "disable" */
const char *policy_link_state_name(enum policy_link_state ls);
int policy_parse_link_state(const char *s, enum policy_link_state *ret_ls);
/* The first of the profile's VF settings that is not the daemon's default ("trust on",
 * "max-tx-rate 1000"), into buf; false when every one is. */
bool policy_profile_vf_setting(const struct policy_profile *pr, char *buf, size_t len);

/* Names: 1..31 of [A-Za-z0-9._-]. */
bool policy_name_valid(const char *s, size_t size);

const struct policy_network *policy_find_network(const struct policy *p, const char *name);
const struct policy_profile *policy_find_profile(const struct policy *p, const char *name);
/* PF by netdev or PCI address; -ENOENT. */
int policy_find_pf(const struct policy *p, const char *name);

/* Mutations: 0 or -errno with why. Each recomputes the allowed sets. */
int policy_network_add(struct policy *p, const struct policy_network *n, char *why, size_t len);
int policy_network_del(struct policy *p, const char *name, char *why, size_t len);
int policy_profile_add(struct policy *p, const struct policy_profile *pr, char *why, size_t len);
/* leases: how many leases use the profile now (its passthrough mode is then frozen). */
int policy_profile_set(struct policy *p, const struct policy_profile *pr, unsigned leases,
		       char *why, size_t len);
int policy_profile_del(struct policy *p, const char *name, unsigned leases, char *why, size_t len);
int policy_pf_all_networks(struct policy *p, uint32_t pf, bool on);
int policy_pf_network(struct policy *p, uint32_t pf, const char *net, bool add, char *why,
		      size_t len);
int policy_pf_label(struct policy *p, uint32_t pf, const char *label, bool add, char *why,
		    size_t len);

/* The PFs that may serve a network (NULL when the network is not defined). */
const struct pf_set *policy_allowed(const struct policy *p, const char *network);
/* Recomputes every network's allowed set (after loading). */
void policy_recompute(struct policy *p);

/* Fills the network table of the state segment; the caller holds the seqlock. */
void policy_publish(const struct policy *p, struct vfpool_shm_network *table, uint32_t capacity,
		    uint32_t *ret_n);

#endif
