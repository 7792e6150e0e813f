/* SPDX-License-Identifier: MIT */
/*
 * The shared-memory ABI between vfpoold and every process that maps its segments.
 *
 * Two kinds of segment:
 *  - the state segment (one per daemon, <run-dir>/state): header, PF records, VF records,
 *    per-PF bitmap blocks, IOMMU-group index. Written only by the daemon; everyone else maps
 *    it read-only and reads it under the seqlock in the header. The capacities may exceed
 *    the counts: a daemon reserves room for PFs found after start, which it appends (PF
 *    record, VF records, bitmap block) inside the seqlock, growing n_pfs and n_vfs.
 *  - a ring segment (one per client connection, a sealed memfd passed over the control
 *    socket): a request ring (client -> daemon) and a completion ring (daemon -> client).
 *
 * Rules: fixed-width types only; every field another process touches concurrently is
 * _Atomic; producer and consumer indices live on separate 64-byte lines; indices are
 * free-running u32 masked on use. Any change to a size or offset below is a new
 * layout version: the _Static_asserts at the bottom are the contract.
 */
#ifndef VFPOOL_SHM_LAYOUT_H
#define VFPOOL_SHM_LAYOUT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define VFPOOL_CACHELINE 64

#define VFPOOL_STATE_MAGIC   UINT64_C(0x54535f4c4f4f5046) /* "FPOOL_ST" little-endian */
#define VFPOOL_RING_MAGIC    UINT64_C(0x47525f4c4f4f5046) /* "FPOOL_RG" */
#define VFPOOL_LAYOUT_VERSION 2u       /* the ring segment's: 2 added summary_slot (and the
					* pending summary segment it indexes) */
#define VFPOOL_STATE_LAYOUT_VERSION 2u /* the state segment's: 2 added the host-use words */

#define VFPOOL_PCI_ADDR_MAX 16 /* "dddd:bb:ss.f" + NUL = 13 */
#define VFPOOL_IFNAME_MAX   16 /* IFNAMSIZ */
#define VFPOOL_DRIVER_MAX   16
#define VFPOOL_VM_ID_MAX    64 /* a UUID (36) or a launcher's VM name */
#define VFPOOL_VNIC_ID_MAX  32
#define VFPOOL_NETWORK_MAX  32
#define VFPOOL_REASON_MAX   48

/* ---- state segment ------------------------------------------------------------------- */

/* Why an existing VF is not allocatable although nobody leases it. One bitmap per reason, so
 * discovery, the event probe and the allocator flip bits concurrently without a lock. */
enum vfpool_block_reason {
	VFPOOL_BLOCK_HOST_BUSY = 0,    /* the host uses its netdev: VFPOOL_HOST_USE_* says how */
	VFPOOL_BLOCK_IOMMU_SHARED = 1, /* its IOMMU group holds another device */
	VFPOOL_BLOCK_BOUND_OTHER = 2,  /* bound (e.g. to vfio-pci) by someone without a lease */
	VFPOOL_BLOCK_ABSENT = 3,       /* slot beyond sriov_numvfs, or the VF vanished */
	VFPOOL_BLOCK_DIRTY = 4,        /* a reset failed: quarantined until repaired */
	VFPOOL_BLOCK_NR = 5,
};

/* VF record states, as shown to readers. The bitmaps are the allocator's truth; the record
 * says who holds a leased VF. */
enum vfpool_vf_state {
	VFPOOL_VF_FREE = 0,
	VFPOOL_VF_LEASED = 1,
};

/* How the host uses a VF's netdev, as the link-event probe sees it: one word per VF record
 * (vfpool_state_hdr.host_use_off), every bit that applies. HOST_BUSY is set while any but
 * VFPOOL_HOST_USE_UP applies; VFPOOL_HOST_USE_UP (administratively up, nothing else) blocks
 * only when the daemon runs with --busy-when-up (VFPOOL_STATE_F_BUSY_WHEN_UP). vfpoolctl
 * names them macvtap, vlan, bridge_port, bond_member, address, default_route, up. Written by
 * the daemon inside the seqlock, like the records. */
#define VFPOOL_HOST_USE_MACVTAP       (1u << 0) /* a macvtap or macvlan device on top */
#define VFPOOL_HOST_USE_VLAN          (1u << 1) /* a VLAN device on top */
#define VFPOOL_HOST_USE_BRIDGE_PORT   (1u << 2) /* enslaved to a bridge or Open vSwitch */
#define VFPOOL_HOST_USE_BOND_MEMBER   (1u << 3) /* enslaved to a bond or team */
#define VFPOOL_HOST_USE_ADDRESS       (1u << 4) /* a unicast address (not IPv6 link-local) */
#define VFPOOL_HOST_USE_DEFAULT_ROUTE (1u << 5) /* holds the default route, or is under the
						 * device that does */
#define VFPOOL_HOST_USE_UP            (1u << 6) /* administratively up, none of the above */
#define VFPOOL_HOST_USE_NR            7

#define VFPOOL_PF_F_MANAGED    (1u << 0) /* numvfs configured through vfpool */
#define VFPOOL_PF_F_BOND_SLAVE (1u << 1)
#define VFPOOL_PF_F_LINK_DOWN  (1u << 2) /* the PF netdev's link is down (the link probe's) */
#define VFPOOL_PF_F_GONE       (1u << 3) /* not on the host now (removed, or outside the PF
					  * selectors): every slot absent; the record stays */

#define VFPOOL_STATE_F_STALE   (1u << 0) /* superseded: reopen <run-dir>/state */
#define VFPOOL_STATE_F_EXITED  (1u << 1) /* the daemon shut down: nothing updates it now */
#define VFPOOL_STATE_F_BUSY_WHEN_UP (1u << 2) /* --busy-when-up: VFPOOL_HOST_USE_UP blocks */

/* The writer's heartbeat period, and the age past which a reader calls the writer gone
 * even when its process exists (stopped, hung): generous, a loaded host delays a timer. */
#define VFPOOL_HEARTBEAT_MS       1000u
#define VFPOOL_HEARTBEAT_STALE_MS 5000u

struct vfpool_state_hdr {
	/* line 0: immutable after publication */
	uint64_t magic;
	uint32_t layout_version;
	uint32_t hdr_size;
	uint64_t segment_size;
	uint64_t pf_off;     /* struct vfpool_shm_pf[pf_capacity] */
	uint64_t vf_off;     /* struct vfpool_shm_vf[vf_capacity] */
	uint64_t bitmap_off; /* _Atomic uint64_t[bitmap_words], PF blocks inside */
	uint64_t iommu_off;  /* struct vfpool_shm_iommu_group[iommu_capacity] */
	uint32_t pf_capacity;
	uint32_t vf_capacity;
	/* line 1 */
	uint32_t iommu_capacity;
	uint32_t bitmap_words;
	int32_t daemon_pid;
	uint32_t network_capacity;
	uint64_t started_ns; /* CLOCK_REALTIME at publication */
	uint64_t network_off; /* struct vfpool_shm_network[network_capacity] */
	/* who writes the segment, so a reader tells a live daemon from a dead one's leftover
	 * (shm/liveness.h). 0: not recorded (an older daemon), not checked */
	uint64_t daemon_starttime; /* /proc/<pid>/stat starttime: a reused pid has another */
	uint64_t daemon_pidns;     /* inode of the daemon's /proc/self/ns/pid: daemon_pid is
				    * only meaningful to readers in the same pid namespace */
	uint64_t daemon_timens;    /* likewise for heartbeat_mono_ns (/proc/self/ns/time) */
	uint64_t host_use_off;     /* uint32_t[vf_capacity]: VFPOOL_HOST_USE_* per VF record */
	/* line 2: the seqlock generation, odd while the daemon writes */
	_Atomic uint64_t seq;
	uint8_t pad_seq[56];
	/* line 3: counts, written inside the seqlock like the records */
	uint32_t n_pfs;
	uint32_t n_vfs; /* VF slots in use (sum of the PFs' total_vfs) */
	uint32_t n_iommu_groups;
	_Atomic uint32_t flags; /* VFPOOL_STATE_F_* */
	_Atomic uint64_t requests;  /* served since start (relaxed counters for ops tools) */
	_Atomic uint64_t errors;
	uint32_t n_networks;        /* inside the seqlock, like the records */
	uint32_t host_kind;         /* enum vfpool_host_kind */
	uint64_t config_generation; /* bumped on every policy change */
	/* advanced every VFPOOL_HEARTBEAT_MS by a timer in the daemon's loop, idle or busy
	 * (relaxed; outside the seqlock). 0: an older daemon, not checked */
	_Atomic uint64_t heartbeat_mono_ns; /* CLOCK_MONOTONIC: what readers judge by */
	_Atomic uint64_t heartbeat_real_ns; /* CLOCK_REALTIME: "last state from" for humans */
	/* line 4: event probe status (relaxed counters; mode and reason inside the seqlock) */
	uint32_t probe_mode;        /* enum vfpool_probe_mode */
	uint32_t reserved2;
	_Atomic uint64_t probe_passed;
	_Atomic uint64_t probe_dropped;
	_Atomic uint64_t journal_bytes;
	_Atomic uint64_t leases_lost; /* leases whose VF vanished */
	_Atomic uint64_t journal_records_lost; /* damaged journal records skipped at start */
	uint8_t pad_status[16];
	/* line 5 */
	char probe_reason[64];      /* why the fallback runs, "" otherwise */
	/* lines 6-7: failed requests by kind (relaxed counters, enum vfpool_err_kind) */
	_Atomic uint64_t errors_by_kind[16];
	/* lines 8-9: request service time, sampled 1 in VFPOOL_LAT_SAMPLE: bucket i counts
	 * samples under 2^(i+7) ns (128 ns .. 2.1 ms), the last one everything slower */
	_Atomic uint64_t latency_buckets[16];
};

enum vfpool_err_kind {
	VFPOOL_ERR_NO_VF = 0,     /* -ENOSPC: no eligible VF */
	VFPOOL_ERR_REJECTED = 1,  /* malformed request */
	VFPOOL_ERR_BLOCKED = 2,   /* -EPERM: pinned VF blocked, network not allowed */
	VFPOOL_ERR_BUSY = 3,      /* -EBUSY */
	VFPOOL_ERR_NO_LEASE = 4,  /* -ENOENT */
	VFPOOL_ERR_STALE = 5,     /* -ESTALE */
	VFPOOL_ERR_CONFLICT = 6,  /* -EEXIST */
	VFPOOL_ERR_QUOTA = 7,     /* -EDQUOT */
	VFPOOL_ERR_CONFIG = 8,    /* VF configuration failed (kernel NACK, timeout) */
	VFPOOL_ERR_OTHER = 9,
	VFPOOL_ERR_NR = 10,
};
#define VFPOOL_LAT_SAMPLE 64u
#define VFPOOL_LAT_BUCKETS 16u

enum vfpool_host_kind { VFPOOL_HOST_SIMULATED = 0, VFPOOL_HOST_UDEV = 1 };
enum vfpool_probe_mode { VFPOOL_PROBE_OFF = 0, VFPOOL_PROBE_BPF = 1, VFPOOL_PROBE_FALLBACK = 2 };

#define VFPOOL_MAX_NETWORKS 256u
#define VFPOOL_LABEL_MAX    32

/* A network and the PFs allowed to serve it, as the daemon computed them from each PF's
 * VFs config (network list, label list, all-networks-allowed). Lets schedulers read
 * capacity per network from the snapshot, without asking the daemon. */
struct vfpool_shm_network {
	char name[VFPOOL_NETWORK_MAX];
	char label[VFPOOL_LABEL_MAX];
	uint16_t vlan;  /* 0: untagged */
	uint16_t flags;
	uint32_t mtu;   /* 0: default */
	uint64_t pf_allowed[4]; /* bit per PF index (up to 256 PFs) */
	uint8_t pad[24];
};

struct vfpool_shm_pf {
	char pci_addr[VFPOOL_PCI_ADDR_MAX];
	char netdev[VFPOOL_IFNAME_MAX];
	char driver[VFPOOL_DRIVER_MAX];
	uint16_t vendor;
	uint16_t device;
	int32_t numa_node;
	uint32_t total_vfs; /* sriov_totalvfs: the PF's slot count */
	uint32_t num_vfs;   /* sriov_numvfs: existing VFs */
	uint32_t vf_first;  /* index of slot 0 in the VF record array */
	uint32_t flags;     /* VFPOOL_PF_F_* */
	uint64_t bm_off;    /* this PF's bitmap block, in words from bitmap_off */
	uint32_t bm_words;  /* words in the block */
	uint32_t reserved;
	uint8_t pad[40];    /* to 128 */
};

struct vfpool_shm_vf {
	char pci_addr[VFPOOL_PCI_ADDR_MAX];
	char netdev[VFPOOL_IFNAME_MAX];
	uint32_t pf_index;
	uint32_t vf_index; /* VF number on its PF (virtfnN) */
	int32_t ifindex;
	int32_t iommu_group; /* -1: none */
	int32_t numa_node;   /* -1: unknown */
	uint32_t state;      /* enum vfpool_vf_state */
	uint64_t lease_gen;  /* bumped on every lease; 0 = never leased */
	char vm_id[VFPOOL_VM_ID_MAX];
	char vnic_id[VFPOOL_VNIC_ID_MAX];
	char network[VFPOOL_NETWORK_MAX];
	char reason[VFPOOL_REASON_MAX]; /* why blocked, for humans */
	uint8_t mac[6];      /* applied config of the lease (issue: VF configuration) */
	uint16_t lease_flags; /* VFPOOL_LEASE_F_* */
	uint16_t vlan;        /* 0: none */
	uint8_t vlan_qos;
	uint8_t cfg_state;    /* enum vfpool_cfg_state */
	uint32_t mtu;         /* 0: unchanged */
};

#define VFPOOL_LEASE_F_NUMA_MISS (1u << 0)
#define VFPOOL_LEASE_F_PID_BOUND (1u << 1) /* released when the bound process exits */
#define VFPOOL_LEASE_F_CFG_RECORDED (1u << 2) /* config recorded, not sent: no PF netdev here */
#define VFPOOL_LEASE_F_VFIO (1u << 3) /* bound (cfg_state pending: being bound) to vfio-pci by
				       * vfpool for the lease; back to its driver at release */

enum vfpool_cfg_state {
	VFPOOL_CFG_NONE = 0,     /* nothing applied */
	VFPOOL_CFG_PENDING = 1,  /* reserved, configuration in flight */
	VFPOOL_CFG_APPLIED = 2,
	VFPOOL_CFG_FAILED = 3,
};

struct vfpool_shm_iommu_group {
	int32_t group;
	uint32_t n_devices; /* every PCI device in the group, VFs included */
	char other_dev[VFPOOL_PCI_ADDR_MAX]; /* one non-VF member, for the message */
	uint8_t pad[8];
};

/* ---- ring segment -------------------------------------------------------------------- */

enum vfpool_opcode {
	VFPOOL_OP_NOP = 0,
	VFPOOL_OP_ALLOC = 1,
	VFPOOL_OP_RELEASE = 2,
	VFPOOL_OP_NR,
};

#define VFPOOL_REQ_F_MAC  (1u << 0) /* mac is set */
#define VFPOOL_REQ_F_PIN  (1u << 1) /* pin_pci names the VF */
#define VFPOOL_REQ_F_GEN  (1u << 2) /* release only if generation matches */
#define VFPOOL_REQ_F_PROFILE (1u << 3) /* profile names the vNIC profile (network optional) */
/* All-or-nothing chain: set on every entry of a VM's allocations but the last (like
 * IOSQE_IO_LINK). The daemon serves a chain only once its last entry is published; any
 * failure undoes the chain's earlier allocations and every entry completes with it. */
#define VFPOOL_REQ_F_LINK    (1u << 4)
#define VFPOOL_REQ_F_BIND_PID (1u << 5) /* the lease ends with process bind_pid (0: the client) */
#define VFPOOL_REQ_F_EARLY   (1u << 6) /* complete at reservation (VFPOOL_CQE_F_MORE), then
					  * again once the VF is configured */
/* Managed vfio-pci binding: the VF is bound to vfio-pci before the request completes (its
 * completion then has VFPOOL_CQE_F_VFIO) and given back to its driver at release. */
#define VFPOOL_REQ_F_VFIO    (1u << 7)
/* numa_node (>= 0) is required, not preferred: a VF on that node or none (added with
 * issue 14; a daemon before it refuses the flag as unknown) */
#define VFPOOL_REQ_F_NUMA_REQUIRED (1u << 8)
#define VFPOOL_REQ_F_ALL  (VFPOOL_REQ_F_MAC | VFPOOL_REQ_F_PIN | VFPOOL_REQ_F_GEN | \
			   VFPOOL_REQ_F_PROFILE | VFPOOL_REQ_F_LINK | VFPOOL_REQ_F_BIND_PID | \
			   VFPOOL_REQ_F_EARLY | VFPOOL_REQ_F_VFIO | \
			   VFPOOL_REQ_F_NUMA_REQUIRED)
#define VFPOOL_CHAIN_MAX  32u /* entries in one chain */

/* One request. Written by the client, so the daemon copies it out once and validates the
 * copy: nothing here is trusted. Strings are NUL-terminated within their field. */
struct vfpool_sqe {
	uint64_t user_data;
	uint16_t opcode;
	uint16_t reserved0;
	uint32_t flags;
	int32_t numa_node; /* -1: no preference */
	int32_t bind_pid;  /* with VFPOOL_REQ_F_BIND_PID: release when this process exits */
	uint64_t generation;
	char vm_id[VFPOOL_VM_ID_MAX];
	char vnic_id[VFPOOL_VNIC_ID_MAX];
	char network[VFPOOL_NETWORK_MAX];
	char pin_pci[VFPOOL_PCI_ADDR_MAX];
	uint8_t mac[6];
	uint8_t reserved2[2];
	char profile[VFPOOL_NETWORK_MAX]; /* with VFPOOL_REQ_F_PROFILE */
	uint8_t reserved3[40]; /* zero: room for later fields without a new entry size */
};

#define VFPOOL_CQE_F_EXISTING  (1u << 0) /* the (VM, vNIC) already held this lease */
#define VFPOOL_CQE_F_NUMA_MISS (1u << 1) /* placed off the requested NUMA node */
#define VFPOOL_CQE_F_MORE      (1u << 2) /* another completion for this request follows */
/* A failed entry of a chain that was not itself the cause: another entry failed (its own
 * completion, without this flag, says why) and nothing of the chain was allocated. */
#define VFPOOL_CQE_F_CHAIN     (1u << 3)
/* The VF is bound to vfio-pci by vfpool for this lease: its VFIO group is
 * /dev/vfio/<iommu_group> (VFPOOL_REQ_F_VFIO). */
#define VFPOOL_CQE_F_VFIO      (1u << 4)

/* cqe res of an alloc by a "preferred" passthrough profile when no VF is eligible, or by a
 * profile that is not passthrough: not a failure; the vNIC is to use the bridge (message
 * says why). */
#define VFPOOL_CQE_USE_BRIDGE 1

struct vfpool_cqe {
	uint64_t user_data;
	int32_t res; /* 0, VFPOOL_CQE_USE_BRIDGE, or a negative errno */
	uint32_t flags;
	uint32_t vf_slot;
	uint32_t pf_index;
	uint32_t vf_index;
	int32_t iommu_group;
	int32_t numa_node;
	int32_t ifindex;
	uint64_t generation;
	char pci_addr[VFPOOL_PCI_ADDR_MAX];
	char netdev[VFPOOL_IFNAME_MAX];
	char pf_netdev[VFPOOL_IFNAME_MAX];
	char message[160]; /* for errors: each object and its reason */
};

/* An index written by one side only, alone on its cache line. */
struct vfpool_ring_index {
	_Atomic uint32_t v;
	uint8_t pad[VFPOOL_CACHELINE - sizeof(uint32_t)];
};

struct vfpool_ring_hdr {
	/* line 0: immutable after creation */
	uint64_t magic;
	uint32_t layout_version;
	uint32_t hdr_size;
	uint64_t segment_size;
	uint32_t sq_entries; /* powers of two */
	uint32_t cq_entries;
	uint32_t sqe_size;
	uint32_t cqe_size;
	uint64_t sq_off;
	uint64_t cq_off;
	uint32_t client_id;
	uint32_t summary_slot; /* this ring's bit in the pending summary (VFPOOL_SUMMARY_NONE:
				* none): word summary_slot / 64, bit summary_slot % 64 */
	/* one line each; the comment says who writes it */
	struct vfpool_ring_index sq_tail;   /* client: requests published */
	struct vfpool_ring_index sq_head;   /* daemon: requests consumed */
	struct vfpool_ring_index cq_tail;   /* daemon: completions published */
	struct vfpool_ring_index cq_head;   /* client: completions consumed */
	struct vfpool_ring_index sq_wakeup; /* daemon: 1 while it sleeps and needs a doorbell */
	struct vfpool_ring_index sq_bell;   /* client: futex word, bumped to wake the daemon */
	struct vfpool_ring_index cq_wakeup; /* client: 1 while it sleeps waiting for completions */
	struct vfpool_ring_index cq_bell;   /* daemon: futex word, bumped to wake the client */
};

/* ---- pending summary segment ---------------------------------------------------------
 *
 * One memfd the daemon shares read-write with every connected client (the welcome's third
 * descriptor, sealed against resizing): a header, then one word per 64 client slots, each
 * alone on its cache line. A client that publishes requests (or reaps completions while
 * requests of its own still wait) sets its ring's bit (vfpool_ring_hdr.summary_slot) with
 * a release fetch_or after the store of sq_tail (or cq_head) it announces; the polling
 * daemon takes each word with an acquire exchange and serves only the rings whose bits
 * were set: its release/acquire pairing makes the announced store visible to the serve.
 * A bit set after the exchange stays for the next turn; nothing is lost in between.
 *
 * Every client may write every word: a bit is only a hint. A peer that sets bits wrongly
 * costs the daemon a look at rings with nothing to serve; one that clears them can delay
 * other clients' requests until the daemon's periodic look at every ring (at most
 * VFPOOL_SUMMARY_SWEEP_TURNS polling turns), never lose them. Sleeping never rests on the
 * summary: the doorbell protocol (sq_wakeup, sq_bell) is per ring and unchanged. */
#define VFPOOL_SUMMARY_MAGIC UINT64_C(0x4d535f4c4f4f5046) /* "FPOOL_SM" */
#define VFPOOL_SUMMARY_NONE  UINT32_MAX
#define VFPOOL_SUMMARY_SWEEP_TURNS 256u

struct vfpool_summary_word {
	_Atomic uint64_t bits;
	uint8_t pad[VFPOOL_CACHELINE - sizeof(uint64_t)];
};

struct vfpool_summary_hdr {
	uint64_t magic;
	uint32_t layout_version; /* VFPOOL_LAYOUT_VERSION */
	uint32_t n_words;        /* words after the header: one per 64 client slots */
	uint8_t pad[VFPOOL_CACHELINE - 16];
	struct vfpool_summary_word words[];
};

#define VFPOOL_RING_DEFAULT_ENTRIES 256u
#define VFPOOL_RING_MAX_ENTRIES     4096u

/* ---- the contract -------------------------------------------------------------------- */

_Static_assert(sizeof(struct vfpool_state_hdr) == 10 * VFPOOL_CACHELINE, "state header size");
_Static_assert(offsetof(struct vfpool_state_hdr, errors_by_kind) == 6 * VFPOOL_CACHELINE,
	       "error counters line");
_Static_assert(offsetof(struct vfpool_state_hdr, latency_buckets) == 8 * VFPOOL_CACHELINE,
	       "latency histogram line");
_Static_assert(VFPOOL_ERR_NR <= 16, "error kinds fit their counters");
_Static_assert(offsetof(struct vfpool_state_hdr, probe_mode) == 4 * VFPOOL_CACHELINE, "status line");
_Static_assert(offsetof(struct vfpool_state_hdr, probe_reason) == 5 * VFPOOL_CACHELINE, "reason line");
_Static_assert(sizeof(struct vfpool_shm_network) == 128, "network record size");
_Static_assert(offsetof(struct vfpool_state_hdr, seq) == 2 * VFPOOL_CACHELINE,
	       "seqlock generation alone on line 2");
_Static_assert(offsetof(struct vfpool_state_hdr, n_pfs) == 3 * VFPOOL_CACHELINE, "counts");
_Static_assert(offsetof(struct vfpool_state_hdr, daemon_starttime) == VFPOOL_CACHELINE + 32,
	       "writer identity in line 1's former reserved bytes");
_Static_assert(offsetof(struct vfpool_state_hdr, host_use_off) == 2 * VFPOOL_CACHELINE - 8,
	       "host-use offset in line 1's former reserved bytes");
_Static_assert(VFPOOL_HOST_USE_NR <= 32 &&
	       VFPOOL_HOST_USE_UP == 1u << (VFPOOL_HOST_USE_NR - 1),
	       "host-use bits fit their word, VFPOOL_HOST_USE_UP last");
_Static_assert(offsetof(struct vfpool_state_hdr, heartbeat_mono_ns) == 4 * VFPOOL_CACHELINE - 16,
	       "heartbeat in line 3's former padding");
_Static_assert(VFPOOL_HEARTBEAT_STALE_MS >= 3 * VFPOOL_HEARTBEAT_MS,
	       "readers allow several missed beats");
_Static_assert(sizeof(struct vfpool_shm_pf) == 128, "PF record size");
_Static_assert(offsetof(struct vfpool_shm_pf, bm_off) == 72, "PF bm_off offset");
_Static_assert(sizeof(struct vfpool_shm_vf) == 256, "VF record size");
_Static_assert(offsetof(struct vfpool_shm_vf, lease_gen) == 56, "VF lease_gen offset");
_Static_assert(offsetof(struct vfpool_shm_vf, vm_id) == 64, "VF vm_id offset");
_Static_assert(offsetof(struct vfpool_shm_vf, mtu) == 252, "VF mtu offset");
_Static_assert(sizeof(struct vfpool_shm_iommu_group) == 32, "IOMMU group record size");
_Static_assert(sizeof(struct vfpool_sqe) == 256, "request entry size");
_Static_assert(offsetof(struct vfpool_sqe, vm_id) == 32, "request vm_id offset");
_Static_assert(offsetof(struct vfpool_sqe, bind_pid) == 20, "request bind_pid offset");
_Static_assert(offsetof(struct vfpool_sqe, profile) == 184, "request profile offset");
_Static_assert(sizeof(struct vfpool_cqe) == 256, "completion entry size");
_Static_assert(sizeof(struct vfpool_ring_index) == VFPOOL_CACHELINE, "one index per line");
_Static_assert(offsetof(struct vfpool_ring_hdr, sq_tail) == VFPOOL_CACHELINE, "sq_tail line");
_Static_assert(offsetof(struct vfpool_ring_hdr, sq_head) == 2 * VFPOOL_CACHELINE, "sq_head line");
_Static_assert(offsetof(struct vfpool_ring_hdr, cq_bell) == 8 * VFPOOL_CACHELINE, "cq_bell line");
_Static_assert(sizeof(struct vfpool_ring_hdr) == 9 * VFPOOL_CACHELINE, "ring header size");
_Static_assert(offsetof(struct vfpool_ring_hdr, summary_slot) == 60, "summary_slot in line 0");
_Static_assert(sizeof(struct vfpool_summary_word) == VFPOOL_CACHELINE, "one word per line");
_Static_assert(sizeof(struct vfpool_summary_hdr) == VFPOOL_CACHELINE, "summary header line");
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free across processes");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "32-bit atomics must be lock-free across processes");

#endif /* VFPOOL_SHM_LAYOUT_H */
