/* SPDX-License-Identifier: MIT */
/* vfpoolctl alloc / release: one request through libvfpool, for operators and scripts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/vfpoolctl/cmds.h"

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

int cmd_alloc(const struct ctl_opts *o)
{
	struct vfpool_alloc_req req = { .numa_node = -1 };
	struct vfpool_lease lease;
	struct vfpool *h;
	char why[160] = "";
	uint8_t mac[6];
	int r;

	/* alloc VM VNIC NETWORK [--mac M] [--pin PCI] [--numa N] */
	if (o->argc < 3) {
		fprintf(stderr, "usage: vfpoolctl alloc VM VNIC NETWORK [--mac MAC] [--pin PCI] [--numa N]\n");
		return CTL_EXIT_USAGE;
	}
	req.vm_id = o->argv[0];
	req.vnic_id = o->argv[1];
	req.network = o->argv[2];
	for (int i = 3; i < o->argc; i++) {
		if (i + 1 >= o->argc) {
			fprintf(stderr, "vfpoolctl alloc: %s needs a value\n", o->argv[i]);
			return CTL_EXIT_USAGE;
		}
		if (strcmp(o->argv[i], "--mac") == 0) {
			if (parse_mac(o->argv[++i], mac)) {
				fprintf(stderr, "vfpoolctl alloc: --mac %s: not a MAC address\n", o->argv[i]);
				return CTL_EXIT_USAGE;
			}
			req.mac = mac;
		} else if (strcmp(o->argv[i], "--pin") == 0) {
			req.pin_pci = o->argv[++i];
		} else if (strcmp(o->argv[i], "--numa") == 0) {
			req.numa_node = atoi(o->argv[++i]);
		} else {
			fprintf(stderr, "vfpoolctl alloc: unknown option %s\n", o->argv[i]);
			return CTL_EXIT_USAGE;
		}
	}
	r = vfpool_connect(o->run_dir, NULL, &h);
	if (r) {
		fprintf(stderr, "vfpoolctl: %s: %s\n", o->run_dir, vfpool_strerror(r));
		return CTL_EXIT_FAIL;
	}
	r = vfpool_alloc(h, &req, &lease, why, sizeof(why));
	vfpool_close(h);
	if (r) {
		/* the daemon's reason names the object; the generic text is for when it has none */
		fprintf(stderr, "vfpoolctl alloc: %s/%s: %s\n", req.vm_id, req.vnic_id,
			why[0] ? why : vfpool_strerror(r));
		return CTL_EXIT_FAIL;
	}
	if (o->json)
		printf("{\"pci\":\"%s\",\"netdev\":\"%s\",\"pf\":\"%s\",\"vf\":%u,\"iommu_group\":%d,"
		       "\"numa_node\":%d,\"generation\":%llu}\n", lease.pci_addr, lease.netdev,
		       lease.pf_netdev, lease.vf_index, lease.iommu_group, lease.numa_node,
		       (unsigned long long)lease.generation);
	else
		printf("%s/%s: %s (%s vf %u on %s, iommu group %d, numa %d%s) generation %llu\n",
		       req.vm_id, req.vnic_id, lease.pci_addr, lease.netdev, lease.vf_index,
		       lease.pf_netdev, lease.iommu_group, lease.numa_node,
		       (lease.flags & VFPOOL_LEASE_NUMA_MISS) ? ", off the requested node" : "",
		       (unsigned long long)lease.generation);
	return CTL_EXIT_OK;
}

int cmd_release(const struct ctl_opts *o)
{
	struct vfpool *h;
	uint64_t gen = 0;
	int r;

	if (o->argc < 2 || o->argc > 3) {
		fprintf(stderr, "usage: vfpoolctl release VM VNIC [GENERATION]\n");
		return CTL_EXIT_USAGE;
	}
	if (o->argc == 3)
		gen = strtoull(o->argv[2], NULL, 10);
	r = vfpool_connect(o->run_dir, NULL, &h);
	if (r) {
		fprintf(stderr, "vfpoolctl: %s: %s\n", o->run_dir, vfpool_strerror(r));
		return CTL_EXIT_FAIL;
	}
	r = vfpool_release(h, o->argv[0], o->argv[1], gen);
	vfpool_close(h);
	if (r) {
		fprintf(stderr, "vfpoolctl release: %s/%s: %s\n", o->argv[0], o->argv[1],
			vfpool_strerror(r));
		return CTL_EXIT_FAIL;
	}
	return CTL_EXIT_OK;
}
