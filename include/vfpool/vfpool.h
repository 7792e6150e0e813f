/* SPDX-License-Identifier: MIT */
/*
 * libvfpool: ask vfpoold for SR-IOV virtual functions.
 *
 * Conventions: every function that can fail returns an int, >= 0 on success and a negative
 * errno on failure; outputs go to ret_* parameters, written only on success. The library
 * never prints and never exits; install a log callback to hear from it.
 *
 * Threads: a struct vfpool is a single-producer handle (like an io_uring): use one per
 * thread, or serialize calls on it yourself. Functions marked "any thread" are safe to call
 * concurrently on any handles.
 *
 * Structs passed by pointer start with their own size (libbpf's OPTS, the kernel's
 * copy_struct_from_user): build them with VFPOOL_OPTS, which sets sz and zeroes every field
 * not named, so that fields can be added without breaking binaries built before:
 *  - the library reads, and for an output writes, only the bytes the caller's sz covers;
 *  - a caller built against a newer header (sz larger than the library knows) is accepted
 *    as long as every byte past the library's struct is zero (-E2BIG otherwise: a field
 *    this library does not know was set); an output's unknown tail is zeroed;
 *  - for arrays (completions, vNICs, leases) the first element's sz is the stride;
 *  - sz below the first release's size is -EINVAL; the library never changes sz.
 * Fields are only ever appended, and no struct has trailing padding (a field added there
 * would hide inside the old size): zero means the default for every field.
 */
#ifndef VFPOOL_VFPOOL_H
#define VFPOOL_VFPOOL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VFPOOL_API __attribute__((visibility("default")))

/* A struct TYPE with sz set and every field not named zero:
 *   struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req, .vm_id = "vm1", ...);
 *   struct vfpool_lease lease = VFPOOL_OPTS(vfpool_lease);
 * g++ and clang++ take it in C++ too, as an extension (a compound literal; designated
 * initializers before C++20): name the fields in declaration order. */
#define VFPOOL_OPTS(TYPE, ...) ((struct TYPE){ .sz = sizeof(struct TYPE), __VA_ARGS__ })

/* The run directory when a function is given NULL: $VFPOOL_RUN_DIR if set, else this. */
#define VFPOOL_DEFAULT_RUN_DIR "/run/vfpool"
#define VFPOOL_RUN_DIR_ENV "VFPOOL_RUN_DIR"

#define VFPOOL_VM_ID_LEN    64 /* buffer sizes, NUL included */
#define VFPOOL_VNIC_ID_LEN  32
#define VFPOOL_NETWORK_LEN  32
#define VFPOOL_PCI_ADDR_LEN 16
#define VFPOOL_IFNAME_LEN   16

struct vfpool;

/* ---- connection ---------------------------------------------------------------------- */

struct vfpool_opts {
	size_t sz;             /* sizeof(struct vfpool_opts): VFPOOL_OPTS sets it */
	unsigned ring_entries; /* 0: default (256); rounded up to a power of two, max 4096 */
	unsigned spin_us;      /* how long to spin on a completion before sleeping (0: 20) */
	unsigned timeout_ms;   /* how long vfpool_alloc/_release/_alloc_vm wait for the daemon
				* before -ETIMEDOUT (0: 60000); a wedged daemon never hangs a launcher */
	unsigned reserved;     /* 0 */
};

/* Connects to the daemon serving run_dir (NULL: $VFPOOL_RUN_DIR, else
 * VFPOOL_DEFAULT_RUN_DIR). opts may be NULL. -ECONNREFUSED: no daemon listens there (its
 * socket is missing or nobody accepts on it). Any thread. */
VFPOOL_API int vfpool_connect(const char *run_dir, const struct vfpool_opts *opts,
			      struct vfpool **ret_handle);
/* Closes the connection. Leases stay: they belong to VMs, not to connections. */
VFPOOL_API void vfpool_close(struct vfpool *h);

enum vfpool_log_level { VFPOOL_LOG_ERR = 3, VFPOOL_LOG_WARN = 4, VFPOOL_LOG_INFO = 6,
			VFPOOL_LOG_DEBUG = 7 };
typedef void (*vfpool_log_fn)(enum vfpool_log_level level, const char *msg, void *userdata);
/* Process-wide; NULL silences (the default). Any thread. */
VFPOOL_API void vfpool_set_log_fn(vfpool_log_fn fn, void *userdata);

/* ---- allocation ---------------------------------------------------------------------- */

struct vfpool_alloc_req {
	size_t sz;           /* VFPOOL_OPTS sets it */
	const char *vm_id;   /* required: the VM that will own the lease */
	const char *vnic_id; /* required: the vNIC inside that VM */
	const char *network; /* required unless profile: the vNIC's network */
	const char *profile; /* optional: the vNIC profile; network may then be NULL (the
			      * profile's) and its passthrough mode decides a "no VF" answer */
	const uint8_t *mac;  /* optional (6 bytes): the MAC to apply to the VF */
	const char *pin_pci; /* optional: this VF and no other ("0000:3b:02.1") */
	int numa_node;       /* with VFPOOL_ALLOC_NUMA: the preferred NUMA node (>= 0);
			      * without it 0 or -1 (no preference) */
	unsigned flags;      /* VFPOOL_ALLOC_* */
	int bind_pid;        /* with VFPOOL_ALLOC_BIND_PID: the process the lease ends with
			      * (0: the calling process, as the daemon sees it on the socket) */
	unsigned reserved;   /* 0 */
};

/* Links this request to the next one submitted: the chain (up to 32) is allocated all or
 * nothing. vfpool_flush never publishes a chain before its last (unlinked) entry. */
#define VFPOOL_ALLOC_LINK (1u << 0)
/* "Reserve now, tell me when configured": the first completion comes as soon as the VF is
 * leased, with more = 1 (the lease is usable for planning; the VF is not yet configured);
 * the last one (more = 0) when its configuration (MAC, VLAN, MTU) is applied, or with the
 * kernel's reason when it failed (the lease is then undone). A single completion
 * (more = 0) when there is nothing to wait for: a failure at once, a lease the vNIC already
 * held, or a host where the configuration is only recorded. For vfpool_submit_alloc only
 * (vfpool_alloc refuses it: -EINVAL). Such a request needs two completion slots; give
 * each one in flight its own user_data. */
#define VFPOOL_ALLOC_EARLY (1u << 1)
/* Binds the lease to process bind_pid (e.g. the QEMU process): the daemon releases it when
 * that process exits, even across a daemon restart. -ESRCH when the process does not
 * exist. */
#define VFPOOL_ALLOC_BIND_PID (1u << 2)
/* numa_node names the preferred NUMA node (a VF elsewhere only when none is free there:
 * VFPOOL_LEASE_NUMA_MISS). Without it there is no preference: zero means none. */
#define VFPOOL_ALLOC_NUMA (1u << 3)
/* Managed vfio-pci binding (libvirt's managed='yes', done by vfpoold): the VF is bound to
 * vfio-pci before the allocation completes, and given back to its original driver when
 * the lease is released. The lease then has VFPOOL_LEASE_VFIO and vfio_group
 * ("/dev/vfio/12"), what QEMU or cloud-hypervisor opens. Refused (-EBUSY, why names the
 * other device) for a VF whose IOMMU group holds other devices; -EOPNOTSUPP from a daemon
 * that simulates its host. Also for vfpool_alloc_vm (struct vfpool_vnic_req.flags). */
#define VFPOOL_ALLOC_VFIO (1u << 4)
/* With VFPOOL_ALLOC_NUMA: the node is required, not preferred: a VF on numa_node or none
 * (-ENOSPC, or VFPOOL_USE_BRIDGE for a preferred profile). A profile can require it too
 * (vfpoolctl profile add --numa required). Added with issue 14. */
#define VFPOOL_ALLOC_NUMA_REQUIRED (1u << 5)

/* Result of an allocation by a "preferred" passthrough profile when no VF is eligible, or
 * by a profile that is not passthrough: not an error; the vNIC is to use the bridge (why
 * says why no VF was eligible, or that the profile is not passthrough). */
#define VFPOOL_USE_BRIDGE 1

#define VFPOOL_LEASE_EXISTING  (1u << 0) /* the vNIC already held this lease: nothing of
					  * the request (MAC, pin, node) was applied anew */
#define VFPOOL_LEASE_NUMA_MISS (1u << 1) /* no VF on the preferred node; placed elsewhere */
#define VFPOOL_LEASE_USE_BRIDGE (1u << 2) /* no lease: preferred profile, use the bridge */
/* A failed linked request that was not the cause: another request of its chain failed (its
 * completion, without this flag, says why) and none of the chain was leased. */
#define VFPOOL_LEASE_CHAIN_ABORTED (1u << 3)
#define VFPOOL_LEASE_VFIO (1u << 4) /* bound to vfio-pci by vfpoold: vfio_group is its group */

struct vfpool_lease {
	size_t sz;                         /* the caller sets it (VFPOOL_OPTS) */
	char pci_addr[VFPOOL_PCI_ADDR_LEN];
	char netdev[VFPOOL_IFNAME_LEN];    /* the VF's netdev ("" if none) */
	char pf_netdev[VFPOOL_IFNAME_LEN];
	unsigned pf_index;
	unsigned vf_index;                 /* the VF's number on its PF */
	int iommu_group;
	int numa_node;
	uint64_t generation;               /* pass to vfpool_release to guard against races */
	unsigned flags;                    /* VFPOOL_LEASE_* */
	unsigned reserved;                 /* 0 */
	/* with VFPOOL_LEASE_VFIO: the VFIO group device ("/dev/vfio/12"), else "" (added with
	 * issue 15) */
	char vfio_group[32];
};

/* Allocates one VF and waits for the answer. On failure the negative errno is returned and,
 * when ret_why is not NULL, the daemon's reason ("ens1f0: 0 free of 64 VFs") is copied to
 * it (NUL-terminated, at most why_len bytes; "" when the failure is the library's). */
VFPOOL_API int vfpool_alloc(struct vfpool *h, const struct vfpool_alloc_req *req,
			    struct vfpool_lease *ret_lease, char *ret_why, size_t why_len);

/* One vNIC of a VM, for vfpool_alloc_vm. */
struct vfpool_vnic_req {
	size_t sz;           /* VFPOOL_OPTS sets it; vnics[0].sz is the array's stride */
	const char *vnic_id; /* required */
	const char *network; /* as in struct vfpool_alloc_req */
	const char *profile;
	const uint8_t *mac;
	const char *pin_pci;
	int numa_node;       /* with VFPOOL_ALLOC_NUMA in flags */
	unsigned flags;      /* VFPOOL_ALLOC_NUMA (and VFPOOL_ALLOC_NUMA_REQUIRED),
			      * VFPOOL_ALLOC_VFIO, or 0 */
};

/* Allocates every vNIC of a VM, all or none (a VM is never half served). 0: ret_leases[i]
 * holds vNIC i's lease (flags VFPOOL_LEASE_USE_BRIDGE for a preferred profile that got no
 * VF, and for a profile that is not passthrough; ret_leases[0].sz is the stride). A
 * placement is found whenever one exists, whatever the order of the vNICs: pinned vNICs
 * first, then the most constrained; a preferred vNIC never takes a VF a mandatory one
 * needs. On failure nothing is leased, the negative errno is
 * returned and why names the vNIC that failed and each PF's reason. n is 1..32. Hot plug
 * is a call with one vNIC for a VM that holds leases; unplug is vfpool_release of that
 * vNIC. */
VFPOOL_API int vfpool_alloc_vm(struct vfpool *h, const char *vm_id,
			       const struct vfpool_vnic_req *vnics, unsigned n,
			       struct vfpool_lease *ret_leases, char *ret_why, size_t why_len);

/* Releases a vNIC's lease. generation 0 releases whatever the vNIC holds; otherwise only
 * that lease (-ESTALE if the VF has been leased again since). -ENOENT: the vNIC holds no
 * lease. On failure ret_why (when not NULL) receives the daemon's reason.
 *
 * vfpool_alloc, vfpool_alloc_vm and vfpool_release survive a daemon restart: on a lost
 * connection they reconnect (up to 10 tries, 10 ms doubling to 1 s apart, all within the
 * handle's timeout_ms) and send the request again. An allocation is idempotent (a lease
 * the lost attempt made comes back with VFPOOL_LEASE_EXISTING). A release whose first
 * attempt reached the daemon but got no answer returns 0 when the retry finds no lease
 * (-ENOENT): the lost attempt released it. -ECONNRESET once the tries are spent. */
VFPOOL_API int vfpool_release(struct vfpool *h, const char *vm_id, const char *vnic_id,
			      uint64_t generation, char *ret_why, size_t why_len);

/* Connects a handle again after its daemon went away (-ECONNRESET from vfpool_reap or a
 * submit): requests in flight are lost, their outcome unknown; submit them again (an
 * allocation is idempotent). 0 when the handle is connected (at once if it still was). */
VFPOOL_API int vfpool_reconnect(struct vfpool *h);

/* ---- batches: submit many, then reap ------------------------------------------------- */

/* Queue a request (not yet visible to the daemon). -EAGAIN when the ring is full: reap,
 * then retry. user_data comes back in the completion. */
VFPOOL_API int vfpool_submit_alloc(struct vfpool *h, const struct vfpool_alloc_req *req,
				   uint64_t user_data);
VFPOOL_API int vfpool_submit_release(struct vfpool *h, const char *vm_id, const char *vnic_id,
				     uint64_t generation, uint64_t user_data);
/* Publish the queued requests and ring the daemon's doorbell if it sleeps. Returns how
 * many were published. */
VFPOOL_API int vfpool_flush(struct vfpool *h);

struct vfpool_completion {
	size_t sz;                 /* out[0].sz: the caller's stride; written to every one */
	uint64_t user_data;
	int res;                   /* 0, VFPOOL_USE_BRIDGE or a negative errno */
	int more;                  /* 1: another completion for this request follows
				    * (VFPOOL_ALLOC_EARLY) */
	char why[160];             /* for a failure: each object and its reason */
	struct vfpool_lease lease; /* for a successful alloc. Last: a completion grows only
				    * through its lease (lease.sz: the bytes of it the caller's
				    * completion holds) */
};

/* Reaps up to max completions into out (out[0].sz set: VFPOOL_OPTS). min_complete > 0 waits
 * until at least that many arrived (spinning briefly, then sleeping); timeout_ms < 0 waits
 * forever. Returns the number reaped, or -ETIMEDOUT, -ECONNRESET (daemon gone). */
VFPOOL_API int vfpool_reap(struct vfpool *h, struct vfpool_completion *out, unsigned max,
			   unsigned min_complete, int timeout_ms);

/* ---- snapshot: a consistent read of the daemon's state, no round trip ----------------- */

struct vfpool_snapshot;

/* Reads <run_dir>/state (run_dir NULL: as vfpool_connect) under its seqlock into private
 * memory. Never blocks the daemon. -ECONNREFUSED when no daemon published a state there;
 * -EAGAIN if the daemon kept writing through every retry; -EOWNERDEAD if the daemon that
 * wrote the state is not running (it crashed or shut down: its pid is gone or is another
 * process now; or it stopped advancing its heartbeat for VFPOOL_SNAPSHOT_STALE_MS): a dead
 * daemon's last state is never served as current. Any thread. */
VFPOOL_API int vfpool_snapshot_take(const char *run_dir, struct vfpool_snapshot **ret_snap);
/* Reads again into the same snapshot, reusing its mapping (reopening the state file if the
 * daemon restarted). The cheap way to poll. -EAGAIN as above, and then the previous
 * contents stay; -EOWNERDEAD as above, and then (like a robust mutex's EOWNERDEAD) the
 * snapshot holds the dead daemon's last state. */
VFPOOL_API int vfpool_snapshot_refresh(struct vfpool_snapshot *snap);
/* As vfpool_snapshot_take, but a dead daemon's last state is read too (0), for tools that
 * show it as such; vfpool_snapshot_liveness says whether the daemon runs. Its refreshes
 * return 0 likewise. */
VFPOOL_API int vfpool_snapshot_take_last(const char *run_dir, struct vfpool_snapshot **ret_snap);
/* Whether the daemon that wrote the snapshot was running at its last take or refresh: the
 * process is looked up when the file is mapped and at most every 100 ms after (a crash is
 * seen at once); its heartbeat, advanced every second even when the daemon is idle, on
 * every read. ret_liveness is sized by the caller (VFPOOL_OPTS): -EINVAL for a bad sz. */
#define VFPOOL_SNAPSHOT_STALE_MS 5000
struct vfpool_liveness {
	size_t sz;             /* VFPOOL_OPTS sets it */
	int running;           /* 1: running; 0: not (the snapshot is its last state) */
	int pid;               /* the daemon's pid, in its own pid namespace */
	uint64_t heartbeat_ns; /* CLOCK_REALTIME of its last heartbeat: "last state from" */
	char why[96];          /* when not running, how that was found ("process 123 is gone",
				* "process 123 shut down", "no heartbeat from process 123 for 9 s") */
};
VFPOOL_API int vfpool_snapshot_liveness(const struct vfpool_snapshot *snap,
					struct vfpool_liveness *ret_liveness);
/* 1 when the daemon's state has moved on since snap was read (a write since, one in
 * progress, a restarted daemon's new segment, or the daemon no longer running: the refresh
 * then says -EOWNERDEAD), 0 when snap is current. Reads one word of the shared mapping,
 * copies nothing: the way to wait for a change is to call this at whatever interval the
 * caller can afford, and vfpool_snapshot_refresh when it says 1. Same thread rules as
 * vfpool_snapshot_refresh on this snap. */
VFPOOL_API int vfpool_snapshot_changed(struct vfpool_snapshot *snap);
VFPOOL_API void vfpool_snapshot_free(struct vfpool_snapshot *snap);
/* Bytes copied by each take/refresh (the whole state segment). */
VFPOOL_API size_t vfpool_snapshot_size(const struct vfpool_snapshot *snap);

/* The accessors below fill a struct the caller sized (VFPOOL_OPTS): -EINVAL for a bad
 * index or sz. */
struct vfpool_pf_info {
	size_t sz;
	char pci_addr[VFPOOL_PCI_ADDR_LEN];
	char netdev[VFPOOL_IFNAME_LEN];
	char driver[16];
	unsigned vendor, device;
	int numa_node;
	unsigned total_vfs;  /* sriov_totalvfs */
	unsigned existing;   /* VFs that exist (sriov_numvfs) */
	unsigned free;       /* existing and allocatable */
	unsigned leased;
	unsigned host_busy;  /* used by the host: vfpool_vf_info.host_use says how */
	unsigned iommu_shared;
	unsigned bound_other;
	unsigned dirty;
	unsigned flags;      /* VFPOOL_PF_* */
};

#define VFPOOL_PF_MANAGED   (1u << 0) /* its number of VFs is configured through vfpool */
#define VFPOOL_PF_LINK_DOWN (1u << 2) /* its netdev's link is down (operstate, carrier), as
				       * the daemon's link probe last saw it: its VFs carry no
				       * traffic (issue 17) */
#define VFPOOL_PF_GONE (1u << 3) /* not on the host now (removed, or outside the PF
				  * selectors): every VF absent; it comes back to this index */

enum vfpool_vf_status {
	VFPOOL_VF_STATUS_FREE = 0,
	VFPOOL_VF_STATUS_LEASED,
	VFPOOL_VF_STATUS_HOST_BUSY,
	VFPOOL_VF_STATUS_IOMMU_SHARED,
	VFPOOL_VF_STATUS_BOUND_OTHER,
	VFPOOL_VF_STATUS_ABSENT,
	VFPOOL_VF_STATUS_DIRTY,
};

struct vfpool_vf_info {
	size_t sz;
	uint64_t generation;
	char pci_addr[VFPOOL_PCI_ADDR_LEN];
	char netdev[VFPOOL_IFNAME_LEN];
	char vm_id[VFPOOL_VM_ID_LEN];  /* lease owner, "" when not leased */
	char vnic_id[VFPOOL_VNIC_ID_LEN];
	char network[VFPOOL_NETWORK_LEN];
	char reason[48];
	unsigned pf_index;
	unsigned vf_index;
	int ifindex;
	int iommu_group;
	int numa_node;
	enum vfpool_vf_status status; /* leased wins over blocked reasons */
	unsigned blocked_mask;        /* 1 << enum vfpool_block_reason, all that apply */
	/* the lease's VF configuration (zero when not leased) */
	unsigned cfg_state;   /* 0 none, 1 pending (reserved, being configured), 2 applied,
			       * 3 failed */
	unsigned mtu;         /* 0: unchanged */
	int cfg_recorded;     /* 1: recorded, not sent (the PF has no netdev on this host) */
	uint8_t mac[6];
	uint8_t reserved[2];
	unsigned vlan;        /* 0: untagged */
	unsigned vlan_qos;
	/* how the host uses the VF's netdev (VFPOOL_VF_USE_*, every one that applies; added
	 * with issue 14). Any but VFPOOL_VF_USE_UP makes the VF host-busy; UP (up, nothing
	 * else on it) does only when vfpoold runs with --busy-when-up, and a free VF that is
	 * up has reason "up on the host, not leased". */
	unsigned host_use;
	unsigned reserved2;
	/* 1: bound to vfio-pci by vfpoold for its lease (VFPOOL_ALLOC_VFIO): its VFIO group
	 * is /dev/vfio/<iommu_group>; 0 otherwise, or while it is being bound (issue 15) */
	int vfio_bound;
	unsigned reserved3;
};

#define VFPOOL_VF_USE_MACVTAP       (1u << 0) /* a macvtap or macvlan device on it */
#define VFPOOL_VF_USE_VLAN          (1u << 1) /* a VLAN device on it */
#define VFPOOL_VF_USE_BRIDGE_PORT   (1u << 2) /* a bridge or Open vSwitch port */
#define VFPOOL_VF_USE_BOND_MEMBER   (1u << 3) /* a bond or team member */
#define VFPOOL_VF_USE_ADDRESS       (1u << 4) /* a unicast address (not IPv6 link-local) */
#define VFPOOL_VF_USE_DEFAULT_ROUTE (1u << 5) /* holds the default route, or is under the
					       * device that does */
#define VFPOOL_VF_USE_UP            (1u << 6) /* administratively up, nothing else */

VFPOOL_API unsigned vfpool_snapshot_pf_count(const struct vfpool_snapshot *snap);
VFPOOL_API unsigned vfpool_snapshot_vf_count(const struct vfpool_snapshot *snap);
VFPOOL_API int vfpool_snapshot_pf(const struct vfpool_snapshot *snap, unsigned index,
				  struct vfpool_pf_info *ret_info);
VFPOOL_API int vfpool_snapshot_vf(const struct vfpool_snapshot *snap, unsigned index,
				  struct vfpool_vf_info *ret_info);
/* Daemon-wide facts: pid, requests served, errors, the link-event probe. */
struct vfpool_daemon_info {
	size_t sz;
	uint64_t requests;
	uint64_t errors;
	uint64_t started_ns;
	uint64_t seq;
	uint64_t probe_passed;  /* link events the filter let through since start */
	uint64_t probe_dropped; /* unrelated link events it dropped */
	uint64_t journal_bytes; /* the lease journal's size (0 until it exists) */
	/* damaged journal records the daemon skipped when it started (each one logged; the
	 * damaged journal kept as leases.journal.corrupt.<time>) */
	uint64_t journal_records_lost;
	int pid;
	unsigned reserved;
	/* the link-event probe that finds host-busy VFs: "bpf" (filter in the kernel),
	 * "fallback" (filter in the daemon), "off", or "unknown" (a newer daemon's mode) */
	char probe_mode[16];
	char probe_reason[64];  /* why it is not "bpf"; "" in bpf mode */
};
VFPOOL_API int vfpool_snapshot_daemon(const struct vfpool_snapshot *snap,
				      struct vfpool_daemon_info *ret_info);

/* Request statistics since the daemon started. Failed requests by kind: "no_vf" (no
 * eligible VF), "rejected" (malformed request), "blocked" (pinned VF blocked, network not
 * allowed), "busy", "no_lease" (release of a vNIC holding none), "stale" (release with an
 * old generation), "conflict" (the vNIC holds another lease), "quota", "config" (the VF's
 * configuration failed after the claim), "other"; the kinds add up to errors. Service
 * time: every sample_every-th request served from a client ring is timed, from taking it
 * off the ring to writing its completion (a chain: the whole chain); bucket i counts the
 * samples under under_ns (powers of two from 128 ns), the last one (under_ns UINT64_MAX)
 * every slower one. Bucket counts are per bucket, not cumulative. */
#define VFPOOL_STATS_KINDS 16
#define VFPOOL_STATS_BUCKETS 16
struct vfpool_error_count {
	char kind[16];
	uint64_t count;
};
struct vfpool_latency_bucket {
	uint64_t under_ns;
	uint64_t count;
};
struct vfpool_request_stats {
	size_t sz;
	uint64_t requests;
	uint64_t errors;
	unsigned n_kinds; /* by_kind[0 .. n_kinds) are valid */
	unsigned sample_every;
	unsigned n_buckets; /* latency[0 .. n_buckets) are valid */
	unsigned reserved;
	struct vfpool_error_count by_kind[VFPOOL_STATS_KINDS];
	struct vfpool_latency_bucket latency[VFPOOL_STATS_BUCKETS];
};
VFPOOL_API int vfpool_snapshot_stats(const struct vfpool_snapshot *snap,
				     struct vfpool_request_stats *ret_stats);

/* The configuration the daemon applied to a leased VF (what a launcher writes into its
 * domain: MAC, VLAN). has_mac is 0 when the lease asked for no MAC. */
struct vfpool_vf_config {
	size_t sz;
	uint8_t mac[6];
	uint8_t reserved[2];
	int has_mac;
	unsigned vlan;      /* 0: untagged */
	unsigned vlan_qos;
	unsigned mtu;       /* 0: unchanged */
};
VFPOOL_API int vfpool_snapshot_vf_config(const struct vfpool_snapshot *snap, unsigned index,
					 struct vfpool_vf_config *ret_config);
/* Networks as the daemon's policy defines them, and the PFs allowed to serve each. */
struct vfpool_network_info {
	size_t sz;
	char name[VFPOOL_NETWORK_LEN];
	char label[32];      /* "" when none */
	unsigned vlan;       /* 0: untagged */
	unsigned mtu;        /* 0: default */
	uint64_t pf_allowed[4]; /* bit i (word i / 64, bit i % 64): PF index i may serve it */
};
VFPOOL_API unsigned vfpool_snapshot_network_count(const struct vfpool_snapshot *snap);
VFPOOL_API int vfpool_snapshot_network(const struct vfpool_snapshot *snap, unsigned index,
				       struct vfpool_network_info *ret_info);

/* ---- commands: configuration and operations over the control socket ----------------- */

/* Runs a daemon command given as words ({"pf", "set", "ens1f0", "--numvfs", "8"}; "help"
 * lists them) and waits for its answer, which may take as long as the command does (a
 * numvfs change takes seconds). Returns the command's status: >= 0, or a negative errno
 * (-EPERM when it needs root or the admin group; -EOPNOTSUPP for a command the daemon does
 * not know; -EBADRQC when the words themselves are wrong: the text is the usage).
 * *ret_output, when not NULL, receives the daemon's text (free() it), on success and
 * failure alike. Same handle rules as above. */
VFPOOL_API int vfpool_command(struct vfpool *h, int argc, const char *const *argv,
			      char **ret_output);

/* May the VM migrate? 0 when it holds no VF; -EBUSY when it does (why lists them).
 * Migration of a VM that holds VFs is refused. */
VFPOOL_API int vfpool_vm_migrate_check(struct vfpool *h, const char *vm_id, char *ret_why,
				       size_t why_len);

/* ---- errors -------------------------------------------------------------------------- */

/* A message for a negative errno returned by this library: what it means for the
 * connection or the library ("no vfpoold listening", "the daemon went away"), else the
 * system's text. A refusal's own meaning (no VF free, no such lease) is in the daemon's
 * reason (ret_why, a completion's why), which names the object: print that when there is
 * one. Any thread. */
VFPOOL_API const char *vfpool_strerror(int err);

VFPOOL_API const char *vfpool_vf_status_name(enum vfpool_vf_status s);

#ifdef __cplusplus
}
#endif
#endif
