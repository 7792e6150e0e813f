/* SPDX-License-Identifier: MIT */
/* vfpoolctl alloc / release: one request through libvfpool, for operators and scripts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "client/vfpoolctl/cmds.h"
#include "client/vfpoolctl/format_lease.h"
#include "client/vfpoolctl/format_text.h"

static const uint8_t no_mac[6];

/* What the daemon applied to the lease's VF (MAC, VLAN): they live in the VF's record,
 * not in the completion. 0, or -errno when no snapshot could be read (cfg then says
 * nothing: never a MAC that is not known to be applied). */
static int applied_config(const char *run_dir, const char *pci, struct vfpool_vf_config *cfg,
			  unsigned *ret_networks, char ret_network[VFPOOL_NETWORK_LEN])
{
	struct vfpool_snapshot *s;
	int r;

	*cfg = VFPOOL_OPTS(vfpool_vf_config);
	*ret_networks = 0;
	r = vfpool_snapshot_take(run_dir, &s);
	if (r)
		return r;
	*ret_networks = vfpool_snapshot_network_count(s);
	r = -ENODEV;
	for (unsigned i = 0; i < vfpool_snapshot_vf_count(s); i++) {
		struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);

		if (vfpool_snapshot_vf(s, i, &v) == 0 && strcmp(v.pci_addr, pci) == 0) {
			memcpy(ret_network, v.network, VFPOOL_NETWORK_LEN);
			r = vfpool_snapshot_vf_config(s, i, cfg);
			break;
		}
	}
	vfpool_snapshot_free(s);
	return r;
}

static void mac_text(char buf[18], const uint8_t mac[6])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
}

/* A held lease asked for again with another MAC or another VF: the daemon returned the
 * lease as it is, and applied none of the request. Say so instead of reporting what was
 * asked; 0 when the request matches the lease. */
static int check_existing(const struct ctl *c, const char *object, const struct vfpool_lease *l,
			  const struct vfpool_vf_config *cfg, int cfg_err, const uint8_t *mac,
			  const char *pin)
{
	char want[18], have[18];

	if (pin && strcmp(pin, l->pci_addr) != 0)
		return ctl_fail(c, -EEXIST, "%s: already holds %s, not %s; release it first", object,
				l->pci_addr, pin);
	if (!mac)
		return 0;
	mac_text(want, mac);
	if (cfg_err)
		return ctl_fail(c, cfg_err, "%s: already holds %s; its MAC could not be read back "
				"(%s), so %s is not known to be applied", object, l->pci_addr,
				vfpool_strerror(cfg_err), want);
	if (!cfg->has_mac)
		return ctl_fail(c, -EEXIST, "%s: already holds %s with no MAC set, not %s; release "
				"it first", object, l->pci_addr, want);
	mac_text(have, cfg->mac);
	if (memcmp(cfg->mac, mac, 6) != 0)
		return ctl_fail(c, -EEXIST, "%s: already holds %s with MAC %s, not %s; release it "
				"first", object, l->pci_addr, have, want);
	return 0;
}

/* The profile asked for, or JSON null */
static struct json_object *profile_json(const struct ctl *c)
{
	const char *profile = ctl_opt(c, "profile");

	return profile ? ctl_json_string(profile) : NULL;
}

static struct json_object *lease_json(const struct ctl *c, const struct vfpool_lease *l,
				      const char *network, const struct vfpool_vf_config *cfg,
				      int cfg_err)
{
	struct json_object *o = json_object_new_object();
	char mac[18];

	json_object_object_add(o, "vm", ctl_json_string(c->argv[0]));
	json_object_object_add(o, "vnic", ctl_json_string(c->argv[1]));
	json_object_object_add(o, "network", ctl_json_string(network));
	json_object_object_add(o, "profile", profile_json(c));
	json_object_object_add(o, "pci", ctl_json_string(l->pci_addr));
	json_object_object_add(o, "netdev", ctl_json_string(l->netdev));
	json_object_object_add(o, "pf", ctl_json_string(l->pf_netdev));
	json_object_object_add(o, "vf", json_object_new_int64(l->vf_index));
	json_object_object_add(o, "iommu_group", json_object_new_int(l->iommu_group));
	json_object_object_add(o, "numa_node", json_object_new_int(l->numa_node));
	json_object_object_add(o, "generation", json_object_new_uint64(l->generation));
	json_object_object_add(o, "existing",
			       json_object_new_boolean(l->flags & VFPOOL_LEASE_EXISTING));
	json_object_object_add(o, "numa_miss",
			       json_object_new_boolean(l->flags & VFPOOL_LEASE_NUMA_MISS));
	if (!cfg_err && cfg->has_mac) {
		mac_text(mac, cfg->mac);
		json_object_object_add(o, "mac", json_object_new_string(mac));
	} else {
		json_object_object_add(o, "mac", NULL);
	}
	json_object_object_add(o, "vlan", json_object_new_int64(cfg_err ? 0 : cfg->vlan));
	json_object_object_add(o, "vfio_group", (l->flags & VFPOOL_LEASE_VFIO) ?
			       ctl_json_string(l->vfio_group) : NULL);
	return o;
}

static int print_lease(const struct ctl *c, const char *fmt, const struct vfpool_lease *l,
		       const char *network, const struct vfpool_vf_config *cfg, int cfg_err)
{
	struct lease_view v = { .pci_addr = l->pci_addr,
				.vfio_group = (l->flags & VFPOOL_LEASE_VFIO) ? l->vfio_group : NULL };
	char mac[18], buf[3][64];

	/* what the daemon applied, read back: never the MAC that was asked */
	if (!cfg_err) {
		v.mac = cfg->has_mac ? cfg->mac : NULL;
		v.vlan = cfg->vlan;
	}
	if (strcmp(fmt, "libvirt") == 0 || strcmp(fmt, "qemu") == 0) {
		int r = fmt[0] == 'l' ? format_lease_libvirt(stdout, &v) : format_lease_qemu(stdout, &v);

		if (r)
			return ctl_fail(c, r, "%s: not a PCI address the formats can express",
					ctl_text(buf[0], sizeof(buf[0]), l->pci_addr));
		return CTL_EXIT_OK;
	}
	if (c->json)
		return ctl_json_print(stdout, lease_json(c, l, network, cfg, cfg_err)) ? CTL_EXIT_FAIL
									: CTL_EXIT_OK;
	if (v.mac)
		mac_text(mac, v.mac);
	printf("%s/%s: %s (%s vf %u on %s, iommu group %d, numa %d%s) generation %llu"
	       "%s%s%s%s%s\n",
	       c->argv[0], c->argv[1], ctl_text(buf[0], sizeof(buf[0]), l->pci_addr),
	       ctl_text(buf[1], sizeof(buf[1]), l->netdev), l->vf_index,
	       ctl_text(buf[2], sizeof(buf[2]), l->pf_netdev), l->iommu_group, l->numa_node,
	       (l->flags & VFPOOL_LEASE_NUMA_MISS) ? ", off the requested node" : "",
	       (unsigned long long)l->generation, v.mac ? " mac " : "", v.mac ? mac : "",
	       v.vfio_group ? " vfio " : "", v.vfio_group ? v.vfio_group : "",
	       (l->flags & VFPOOL_LEASE_EXISTING) ? " (already held)" : "");
	return CTL_EXIT_OK;
}

/* A "use the bridge" answer (a preferred profile with no VF eligible, or a profile that
 * is not passthrough): not a failure, so it is printed on stdout and exits 0. */
static int print_bridge(const struct ctl *c, const char *object, const char *why)
{
	char buf[2][192];

	if (c->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "vm", ctl_json_string(c->argv[0]));
		json_object_object_add(o, "vnic", ctl_json_string(c->argv[1]));
		json_object_object_add(o, "profile", profile_json(c));
		json_object_object_add(o, "bridge", json_object_new_boolean(1));
		json_object_object_add(o, "why", ctl_json_string(why));
		return ctl_json_print(stdout, o) ? CTL_EXIT_FAIL : CTL_EXIT_OK;
	}
	printf("%s: no VF, use the bridge: %s\n", ctl_text(buf[0], sizeof(buf[0]), object),
	       ctl_text(buf[1], sizeof(buf[1]), why));
	return CTL_EXIT_OK;
}

int cmd_alloc(struct ctl *c)
{
	const char *fmt = ctl_opt(c, "format"), *mac_arg = ctl_opt(c, "mac");
	const char *numa = ctl_opt(c, "numa"), *profile = ctl_opt(c, "profile");
	const char *driver = ctl_opt(c, "driver");
	struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req, .vm_id = c->argv[0],
						  .vnic_id = c->argv[1],
						  .network = c->argc > 2 ? c->argv[2] : NULL,
						  .profile = profile, .pin_pci = ctl_opt(c, "pin"));
	struct vfpool_lease lease = VFPOOL_OPTS(vfpool_lease);
	struct vfpool_vf_config cfg;
	char why[160] = "", object[128], network[VFPOOL_NETWORK_LEN] = "";
	unsigned networks;
	struct vfpool *h;
	uint8_t mac[6];
	int r, cfg_err;

	if (!req.network && !profile)
		return ctl_usage(c, "NETWORK or --profile NAME is needed");
	if (mac_arg) {
		if (ctl_parse_mac(mac_arg, mac) || memcmp(mac, no_mac, 6) == 0)
			return ctl_usage(c, "--mac %s: not a MAC address (52:54:00:aa:bb:01)", mac_arg);
		req.mac = mac;
	}
	if (numa) {
		req.numa_node = atoi(numa); /* checked: digits, 0..1023 */
		req.flags |= VFPOOL_ALLOC_NUMA;
	}
	if (driver) /* the one choice: checked */
		req.flags |= VFPOOL_ALLOC_VFIO;
	if (ctl_opt(c, "numa-required")) {
		if (!numa)
			return ctl_usage(c, "--numa-required needs --numa NODE");
		req.flags |= VFPOOL_ALLOC_NUMA_REQUIRED;
	}
	if (!fmt)
		fmt = "text";
	if (strcmp(fmt, "text") != 0 && c->json)
		return ctl_usage(c, "--json and --format %s exclude each other", fmt);
	snprintf(object, sizeof(object), "%s/%s", c->argv[0], c->argv[1]);
	r = ctl_connect(c, &h);
	if (r)
		return r;
	r = vfpool_alloc(h, &req, &lease, why, sizeof(why));
	vfpool_close(h);
	if (r < 0)
		return ctl_fail_why(c, r, object, why);
	if (r == VFPOOL_USE_BRIDGE)
		return print_bridge(c, object, why);
	if (req.network)
		snprintf(network, sizeof(network), "%s", req.network);
	cfg_err = applied_config(c->run_dir, lease.pci_addr, &cfg, &networks, network);
	if (lease.flags & VFPOOL_LEASE_EXISTING) {
		r = check_existing(c, object, &lease, &cfg, cfg_err, req.mac, req.pin_pci);
		if (r)
			return r;
	}
	if (!cfg_err && networks == 0)
		fprintf(stderr, "vfpoolctl alloc: warning: no networks are defined, so network %s "
			"was not checked (vfpoolctl network add)\n", network);
	return print_lease(c, fmt, &lease, network, &cfg, cfg_err);
}

int cmd_release(struct ctl *c)
{
	struct vfpool *h;
	uint64_t gen = 0;
	char why[160] = "", object[128];
	int r;

	if (c->argc == 3 && ctl_parse_u64(c->argv[2], &gen))
		return ctl_usage(c, "GENERATION '%s': not a number (0..2^64-1)", c->argv[2]);
	snprintf(object, sizeof(object), "%s/%s", c->argv[0], c->argv[1]);
	r = ctl_connect(c, &h);
	if (r)
		return r;
	r = vfpool_release(h, c->argv[0], c->argv[1], gen, why, sizeof(why));
	vfpool_close(h);
	if (r)
		return ctl_fail_why(c, r, object, why);
	if (c->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "vm", ctl_json_string(c->argv[0]));
		json_object_object_add(o, "vnic", ctl_json_string(c->argv[1]));
		json_object_object_add(o, "released", json_object_new_boolean(1));
		return ctl_json_print(stdout, o) ? CTL_EXIT_FAIL : CTL_EXIT_OK;
	}
	return CTL_EXIT_OK;
}
