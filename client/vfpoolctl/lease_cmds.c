/* SPDX-License-Identifier: MIT */
/* vfpoolctl alloc / release: one request through libvfpool, for operators and scripts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/vfpoolctl/cmds.h"
#include "client/vfpoolctl/format_lease.h"

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

enum alloc_format { FORMAT_TEXT, FORMAT_LIBVIRT, FORMAT_QEMU };

/* The VLAN (and MAC) the daemon applied live in the VF's record, not in the completion:
 * read them back from a snapshot taken after the allocation. */
static void applied_config(const char *run_dir, const char *pci, struct vfpool_vf_config *cfg)
{
	struct vfpool_snapshot *s;

	*cfg = VFPOOL_OPTS(vfpool_vf_config);
	if (vfpool_snapshot_take(run_dir, &s))
		return;
	for (unsigned i = 0; i < vfpool_snapshot_vf_count(s); i++) {
		struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);

		if (vfpool_snapshot_vf(s, i, &v) == 0 && strcmp(v.pci_addr, pci) == 0) {
			vfpool_snapshot_vf_config(s, i, cfg);
			break;
		}
	}
	vfpool_snapshot_free(s);
}

static int print_formatted(const struct ctl_opts *o, enum alloc_format fmt,
			   const struct vfpool_lease *lease, const uint8_t *req_mac)
{
	struct vfpool_vf_config cfg = VFPOOL_OPTS(vfpool_vf_config);
	struct lease_view v = { .pci_addr = lease->pci_addr };
	int r;

	applied_config(o->run_dir, lease->pci_addr, &cfg);
	v.mac = req_mac ? req_mac : cfg.has_mac ? cfg.mac : NULL;
	v.vlan = cfg.vlan;
	r = fmt == FORMAT_LIBVIRT ? format_lease_libvirt(stdout, &v) : format_lease_qemu(stdout, &v);
	if (r) {
		fprintf(stderr, "vfpoolctl alloc: %s: not a PCI address the formats can express\n",
			lease->pci_addr);
		return CTL_EXIT_FAIL;
	}
	return CTL_EXIT_OK;
}

int cmd_alloc(const struct ctl_opts *o)
{
	enum alloc_format fmt = FORMAT_TEXT;
	struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req);
	struct vfpool_lease lease = VFPOOL_OPTS(vfpool_lease);
	struct vfpool *h;
	char why[160] = "";
	uint8_t mac[6];
	int r;

	/* alloc VM VNIC NETWORK [--mac M] [--pin PCI] [--numa N] [--format F] */
	if (o->argc < 3) {
		fprintf(stderr, "usage: vfpoolctl alloc VM VNIC NETWORK [--mac MAC] [--pin PCI] [--numa N]"
			" [--format text|libvirt|qemu]\n");
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
			req.flags |= VFPOOL_ALLOC_NUMA;
		} else if (strcmp(o->argv[i], "--format") == 0) {
			const char *f = o->argv[++i];

			if (strcmp(f, "libvirt") == 0) {
				fmt = FORMAT_LIBVIRT;
			} else if (strcmp(f, "qemu") == 0) {
				fmt = FORMAT_QEMU;
			} else if (strcmp(f, "text") == 0) {
				fmt = FORMAT_TEXT;
			} else {
				fprintf(stderr, "vfpoolctl alloc: --format %s: use text, libvirt or qemu\n", f);
				return CTL_EXIT_USAGE;
			}
		} else {
			fprintf(stderr, "vfpoolctl alloc: unknown option %s\n", o->argv[i]);
			return CTL_EXIT_USAGE;
		}
	}
	if (fmt != FORMAT_TEXT && o->json) {
		fprintf(stderr, "vfpoolctl alloc: --json and --format %s exclude each other\n",
			fmt == FORMAT_LIBVIRT ? "libvirt" : "qemu");
		return CTL_EXIT_USAGE;
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
	if (fmt != FORMAT_TEXT)
		return print_formatted(o, fmt, &lease, req.mac);
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
	r = vfpool_release(h, o->argv[0], o->argv[1], gen, NULL, 0);
	vfpool_close(h);
	if (r) {
		fprintf(stderr, "vfpoolctl release: %s/%s: %s\n", o->argv[0], o->argv[1],
			vfpool_strerror(r));
		return CTL_EXIT_FAIL;
	}
	return CTL_EXIT_OK;
}
