/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "shm/pf_block.h"
#include "shm/state.h"

static uint64_t align_line(uint64_t v)
{
	return (v + VFPOOL_CACHELINE - 1) & ~(uint64_t)(VFPOOL_CACHELINE - 1);
}

int state_geometry(uint32_t pfs, uint32_t vfs, uint32_t groups, uint32_t bitmap_words,
		   struct state_geometry *ret_geometry)
{
	struct state_geometry g = {
		.pf_capacity = pfs, .vf_capacity = vfs, .iommu_capacity = groups,
		.bitmap_words = bitmap_words, .network_capacity = VFPOOL_MAX_NETWORKS,
	};

	/* no PF at all is a host without SR-IOV: an empty pool, still a valid segment */
	if (pfs > 4096 || vfs > (1u << 22) || groups > (1u << 22) ||
	    bitmap_words > (1u << 26))
		return -ERANGE;
	g.pf_off = sizeof(struct vfpool_state_hdr);
	g.vf_off = align_line(g.pf_off + (uint64_t)pfs * sizeof(struct vfpool_shm_pf));
	g.bitmap_off = align_line(g.vf_off + (uint64_t)vfs * sizeof(struct vfpool_shm_vf));
	g.iommu_off = align_line(g.bitmap_off + (uint64_t)bitmap_words * 8);
	g.network_off = align_line(g.iommu_off +
				   (uint64_t)groups * sizeof(struct vfpool_shm_iommu_group));
	g.host_use_off = align_line(g.network_off +
				    (uint64_t)g.network_capacity * sizeof(struct vfpool_shm_network));
	g.size = align_line(g.host_use_off + (uint64_t)vfs * sizeof(uint32_t));
	*ret_geometry = g;
	return 0;
}

void state_hdr_init(struct vfpool_state_hdr *hdr, const struct state_geometry *g)
{
	hdr->magic = VFPOOL_STATE_MAGIC;
	hdr->layout_version = VFPOOL_STATE_LAYOUT_VERSION;
	hdr->hdr_size = sizeof(*hdr);
	hdr->segment_size = g->size;
	hdr->pf_off = g->pf_off;
	hdr->vf_off = g->vf_off;
	hdr->bitmap_off = g->bitmap_off;
	hdr->iommu_off = g->iommu_off;
	hdr->pf_capacity = g->pf_capacity;
	hdr->vf_capacity = g->vf_capacity;
	hdr->iommu_capacity = g->iommu_capacity;
	hdr->bitmap_words = g->bitmap_words;
	hdr->network_capacity = g->network_capacity;
	hdr->network_off = g->network_off;
	hdr->host_use_off = g->host_use_off;
	atomic_init(&hdr->seq, 0);
	atomic_init(&hdr->flags, 0);
	atomic_init(&hdr->requests, 0);
	atomic_init(&hdr->errors, 0);
}

#define FAIL(msg) do { *ret_why = (msg); return -EPROTO; } while (0)

int state_validate_header(const void *base, size_t size, const char **ret_why)
{
	const struct vfpool_state_hdr *h = base;
	struct state_geometry g;

	if (size < sizeof(*h))
		FAIL("segment smaller than its header");
	if (h->magic != VFPOOL_STATE_MAGIC)
		FAIL("bad magic");
	if (h->layout_version != VFPOOL_STATE_LAYOUT_VERSION)
		FAIL("unsupported layout version");
	if (h->hdr_size != sizeof(*h) || h->segment_size != size)
		FAIL("header or segment size mismatch");
	/* the offsets must be exactly what the capacities give: nothing else is trusted */
	if (state_geometry(h->pf_capacity, h->vf_capacity, h->iommu_capacity, h->bitmap_words,
			   &g) != 0)
		FAIL("capacities out of range");
	if (g.pf_off != h->pf_off || g.vf_off != h->vf_off || g.bitmap_off != h->bitmap_off ||
	    g.iommu_off != h->iommu_off || g.network_off != h->network_off ||
	    g.host_use_off != h->host_use_off ||
	    g.network_capacity != h->network_capacity || g.size != h->segment_size)
		FAIL("offsets do not match capacities");
	return 0;
}

/* The daemon writes every string field with its last byte NUL; checking that one byte is
 * enough for the copy to be safe to print, and keeps validation O(records). */
static int bounded_string(const char *s, size_t n)
{
	return s[n - 1] == '\0';
}

int state_validate_records(const void *base, size_t size, const char **ret_why)
{
	const struct vfpool_state_hdr *h = base;
	int r = state_validate_header(base, size, ret_why);

	if (r)
		return r;
	if (h->n_pfs > h->pf_capacity || h->n_vfs > h->vf_capacity ||
	    h->n_iommu_groups > h->iommu_capacity || h->n_networks > h->network_capacity)
		FAIL("record count beyond capacity");
	if (h->probe_reason[sizeof(h->probe_reason) - 1] != '\0')
		FAIL("probe reason not terminated");
	for (uint32_t i = 0; i < h->n_networks; i++) {
		const struct vfpool_shm_network *n = &state_networks(h)[i];

		if (!bounded_string(n->name, sizeof(n->name)) ||
		    !bounded_string(n->label, sizeof(n->label)))
			FAIL("network string not terminated");
	}
	for (uint32_t i = 0; i < h->n_pfs; i++) {
		const struct vfpool_shm_pf *pf = &state_pfs(h)[i];
		struct pf_block_layout l;

		if (!bounded_string(pf->pci_addr, sizeof(pf->pci_addr)) ||
		    !bounded_string(pf->netdev, sizeof(pf->netdev)) ||
		    !bounded_string(pf->driver, sizeof(pf->driver)))
			FAIL("PF string not terminated");
		if (pf_block_layout(pf->total_vfs ? pf->total_vfs : 1, &l) != 0 ||
		    l.total_words != pf->bm_words)
			FAIL("PF bitmap block size");
		if ((uint64_t)pf->vf_first + pf->total_vfs > h->n_vfs)
			FAIL("PF VF range beyond VF records");
		/* written so it cannot wrap: bm_off comes from the file */
		if (pf->bm_off > h->bitmap_words || pf->bm_words > h->bitmap_words - pf->bm_off)
			FAIL("PF bitmap block beyond bitmap area");
	}
	return 0;
}

int state_validate_vf(const void *base, uint32_t index, const char **ret_why)
{
	const struct vfpool_state_hdr *h = base;
	const struct vfpool_shm_vf *vf;
	const struct vfpool_shm_pf *pf;

	if (index >= h->n_vfs)
		FAIL("VF index beyond the records");
	vf = &state_vfs(h)[index];
	if (vf->pf_index >= h->n_pfs)
		FAIL("VF names a PF that does not exist");
	pf = &state_pfs(h)[vf->pf_index];
	if (index < pf->vf_first || index - pf->vf_first >= (pf->total_vfs ? pf->total_vfs : 1))
		FAIL("VF outside its PF's slots");
	if (!bounded_string(vf->pci_addr, sizeof(vf->pci_addr)) ||
	    !bounded_string(vf->netdev, sizeof(vf->netdev)) ||
	    !bounded_string(vf->vm_id, sizeof(vf->vm_id)) ||
	    !bounded_string(vf->vnic_id, sizeof(vf->vnic_id)) ||
	    !bounded_string(vf->network, sizeof(vf->network)) ||
	    !bounded_string(vf->reason, sizeof(vf->reason)))
		FAIL("VF string not terminated");
	return 0;
}
