# SPDX-License-Identifier: MIT
"""vfpool: ask vfpoold for SR-IOV virtual functions, from Python.

A ctypes binding of libvfpool (no compiler needed): the library does the work, this
module maps its structs and turns a refusal into an exception that carries the daemon's
reason.

    import vfpool

    with vfpool.Client() as c:                    # $VFPOOL_RUN_DIR, else /run/vfpool
        lease = c.alloc("vm1", "net0", "red", mac="52:54:00:12:34:56")
        print(lease.pci_addr)                     # -device vfio-pci,host=...
        c.release("vm1", "net0", lease.generation)

    snap = vfpool.snapshot()                      # the daemon's state, no round trip
    free = vfpool.capacity()["red"]["free"]

Every failure raises VfpoolError, an OSError: .errno is the errno (errno.ENOSPC: no
eligible VF, errno.ENOENT: no such lease or network, errno.ECONNREFUSED: no daemon...),
.strerror the daemon's reason ("vm1/net0: ens1f0: 0 free of 64 VFs") or, when the
failure is the library's own, its text.

The library is found as $VFPOOL_LIBRARY when set, else next to this module in a build
tree (build/libvfpool.so.1), else where `make install` put it, else by the dynamic
loader (libvfpool.so.1).
"""

import ctypes
import errno as _errno
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

__all__ = [
    "VfpoolError", "Lease", "VnicRequest", "PfInfo", "VfInfo", "NetworkInfo",
    "DaemonInfo", "Snapshot", "Client", "snapshot", "capacity", "library_path",
]

# `make install` writes the directory it installed libvfpool into here.
_INSTALLED_LIBDIR = "@LIBDIR@"

VM_ID_LEN = 64
VNIC_ID_LEN = 32
NETWORK_LEN = 32
PCI_ADDR_LEN = 16
IFNAME_LEN = 16

ALLOC_LINK = 1 << 0
ALLOC_EARLY = 1 << 1
ALLOC_BIND_PID = 1 << 2
ALLOC_NUMA = 1 << 3
ALLOC_NUMA_REQUIRED = 1 << 5
USE_BRIDGE = 1
LEASE_EXISTING = 1 << 0
LEASE_NUMA_MISS = 1 << 1
LEASE_USE_BRIDGE = 1 << 2
LEASE_CHAIN_ABORTED = 1 << 3

_VF_STATUS = ["free", "leased", "host-busy", "iommu-shared", "bound-other", "absent",
              "dirty"]


# ---- the C structs (include/vfpool/vfpool.h); each starts with its size ----------------

class _Opts(ctypes.Structure):
    _fields_ = [("sz", ctypes.c_size_t), ("ring_entries", ctypes.c_uint),
                ("spin_us", ctypes.c_uint), ("timeout_ms", ctypes.c_uint),
                ("reserved", ctypes.c_uint)]


class _AllocReq(ctypes.Structure):
    _fields_ = [("sz", ctypes.c_size_t), ("vm_id", ctypes.c_char_p),
                ("vnic_id", ctypes.c_char_p), ("network", ctypes.c_char_p),
                ("profile", ctypes.c_char_p), ("mac", ctypes.POINTER(ctypes.c_uint8)),
                ("pin_pci", ctypes.c_char_p), ("numa_node", ctypes.c_int),
                ("flags", ctypes.c_uint), ("bind_pid", ctypes.c_int),
                ("reserved", ctypes.c_uint)]


class _VnicReq(ctypes.Structure):
    _fields_ = [("sz", ctypes.c_size_t), ("vnic_id", ctypes.c_char_p),
                ("network", ctypes.c_char_p), ("profile", ctypes.c_char_p),
                ("mac", ctypes.POINTER(ctypes.c_uint8)), ("pin_pci", ctypes.c_char_p),
                ("numa_node", ctypes.c_int), ("flags", ctypes.c_uint)]


class _Lease(ctypes.Structure):
    _fields_ = [("sz", ctypes.c_size_t), ("pci_addr", ctypes.c_char * PCI_ADDR_LEN),
                ("netdev", ctypes.c_char * IFNAME_LEN),
                ("pf_netdev", ctypes.c_char * IFNAME_LEN), ("pf_index", ctypes.c_uint),
                ("vf_index", ctypes.c_uint), ("iommu_group", ctypes.c_int),
                ("numa_node", ctypes.c_int), ("generation", ctypes.c_uint64),
                ("flags", ctypes.c_uint), ("reserved", ctypes.c_uint)]


class _PfInfo(ctypes.Structure):
    _fields_ = [("sz", ctypes.c_size_t), ("pci_addr", ctypes.c_char * PCI_ADDR_LEN),
                ("netdev", ctypes.c_char * IFNAME_LEN), ("driver", ctypes.c_char * 16),
                ("vendor", ctypes.c_uint), ("device", ctypes.c_uint),
                ("numa_node", ctypes.c_int), ("total_vfs", ctypes.c_uint),
                ("existing", ctypes.c_uint), ("free", ctypes.c_uint),
                ("leased", ctypes.c_uint), ("host_busy", ctypes.c_uint),
                ("iommu_shared", ctypes.c_uint), ("bound_other", ctypes.c_uint),
                ("dirty", ctypes.c_uint), ("flags", ctypes.c_uint)]


class _VfInfo(ctypes.Structure):
    _fields_ = [("sz", ctypes.c_size_t), ("generation", ctypes.c_uint64),
                ("pci_addr", ctypes.c_char * PCI_ADDR_LEN),
                ("netdev", ctypes.c_char * IFNAME_LEN), ("vm_id", ctypes.c_char * VM_ID_LEN),
                ("vnic_id", ctypes.c_char * VNIC_ID_LEN),
                ("network", ctypes.c_char * NETWORK_LEN), ("reason", ctypes.c_char * 48),
                ("pf_index", ctypes.c_uint), ("vf_index", ctypes.c_uint),
                ("ifindex", ctypes.c_int), ("iommu_group", ctypes.c_int),
                ("numa_node", ctypes.c_int), ("status", ctypes.c_int),
                ("blocked_mask", ctypes.c_uint), ("cfg_state", ctypes.c_uint),
                ("mtu", ctypes.c_uint), ("cfg_recorded", ctypes.c_int),
                ("mac", ctypes.c_uint8 * 6), ("reserved", ctypes.c_uint8 * 2),
                ("vlan", ctypes.c_uint), ("vlan_qos", ctypes.c_uint),
                ("host_use", ctypes.c_uint), ("reserved2", ctypes.c_uint)]

# vfpool_vf_info.host_use bits (VFPOOL_VF_USE_*), by the names vfpoolctl gives them
HOST_USES = ("macvtap", "vlan", "bridge_port", "bond_member", "address", "default_route", "up")


class _DaemonInfo(ctypes.Structure):
    _fields_ = [("sz", ctypes.c_size_t), ("requests", ctypes.c_uint64),
                ("errors", ctypes.c_uint64), ("started_ns", ctypes.c_uint64),
                ("seq", ctypes.c_uint64), ("probe_passed", ctypes.c_uint64),
                ("probe_dropped", ctypes.c_uint64), ("journal_bytes", ctypes.c_uint64),
                ("journal_records_lost", ctypes.c_uint64),
                ("pid", ctypes.c_int), ("reserved", ctypes.c_uint),
                ("probe_mode", ctypes.c_char * 16), ("probe_reason", ctypes.c_char * 64)]


class _Liveness(ctypes.Structure):
    _fields_ = [("sz", ctypes.c_size_t), ("running", ctypes.c_int), ("pid", ctypes.c_int),
                ("heartbeat_ns", ctypes.c_uint64), ("why", ctypes.c_char * 96)]


class _NetworkInfo(ctypes.Structure):
    _fields_ = [("sz", ctypes.c_size_t), ("name", ctypes.c_char * NETWORK_LEN),
                ("label", ctypes.c_char * 32), ("vlan", ctypes.c_uint),
                ("mtu", ctypes.c_uint), ("pf_allowed", ctypes.c_uint64 * 4)]


def _sized(cls):
    s = cls()
    s.sz = ctypes.sizeof(cls)
    return s


# ---- finding and loading the library --------------------------------------------------

def library_path() -> str:
    """The libvfpool this module loads (a path, or the soname for the loader)."""
    env = os.environ.get("VFPOOL_LIBRARY")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    # the source tree: client/python/vfpool/ -> build/
    tree = os.path.join(here, "..", "..", "..", "build", "libvfpool.so.1")
    if os.path.exists(tree):
        return os.path.normpath(tree)
    if not _INSTALLED_LIBDIR.startswith("@"):
        installed = os.path.join(_INSTALLED_LIBDIR, "libvfpool.so.1")
        if os.path.exists(installed):
            return installed
    return "libvfpool.so.1"


_lib = None
_lib_lock = threading.Lock()


def _library():
    global _lib
    with _lib_lock:
        if _lib is not None:
            return _lib
        lib = ctypes.CDLL(library_path(), use_errno=False)
        p = ctypes.POINTER
        sig = {
            "vfpool_connect": (ctypes.c_int, [ctypes.c_char_p, p(_Opts), p(ctypes.c_void_p)]),
            "vfpool_close": (None, [ctypes.c_void_p]),
            "vfpool_alloc": (ctypes.c_int, [ctypes.c_void_p, p(_AllocReq), p(_Lease),
                                            ctypes.c_char_p, ctypes.c_size_t]),
            "vfpool_alloc_vm": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p, p(_VnicReq),
                                               ctypes.c_uint, p(_Lease), ctypes.c_char_p,
                                               ctypes.c_size_t]),
            "vfpool_release": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p,
                                              ctypes.c_uint64, ctypes.c_char_p,
                                              ctypes.c_size_t]),
            "vfpool_command": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_int,
                                              p(ctypes.c_char_p), p(ctypes.c_void_p)]),
            "vfpool_strerror": (ctypes.c_char_p, [ctypes.c_int]),
            "vfpool_snapshot_take": (ctypes.c_int, [ctypes.c_char_p, p(ctypes.c_void_p)]),
            "vfpool_snapshot_take_last": (ctypes.c_int, [ctypes.c_char_p,
                                                         p(ctypes.c_void_p)]),
            "vfpool_snapshot_liveness": (ctypes.c_int, [ctypes.c_void_p, p(_Liveness)]),
            "vfpool_snapshot_free": (None, [ctypes.c_void_p]),
            "vfpool_snapshot_pf_count": (ctypes.c_uint, [ctypes.c_void_p]),
            "vfpool_snapshot_vf_count": (ctypes.c_uint, [ctypes.c_void_p]),
            "vfpool_snapshot_network_count": (ctypes.c_uint, [ctypes.c_void_p]),
            "vfpool_snapshot_pf": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_uint, p(_PfInfo)]),
            "vfpool_snapshot_vf": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_uint, p(_VfInfo)]),
            "vfpool_snapshot_network": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_uint,
                                                       p(_NetworkInfo)]),
            "vfpool_snapshot_daemon": (ctypes.c_int, [ctypes.c_void_p, p(_DaemonInfo)]),
        }
        for name, (res, args) in sig.items():
            fn = getattr(lib, name)
            fn.restype = res
            fn.argtypes = args
        _lib = lib
        return lib


_libc_free = ctypes.CDLL(None).free
_libc_free.argtypes = [ctypes.c_void_p]
_libc_free.restype = None


# ---- errors -----------------------------------------------------------------------------

class VfpoolError(OSError):
    """A refusal or a failure: .errno, .strerror (the daemon's reason when it gave one)."""

    def __init__(self, err: int, reason: str):
        super().__init__(err, reason)
        self.reason = reason


def _fail(r: int, why: bytes = b"", context: str = "") -> VfpoolError:
    err = -r
    reason = why.decode("utf-8", "replace") if why else ""
    if not reason:
        reason = _library().vfpool_strerror(r).decode("utf-8", "replace")
        if context:
            reason = "%s: %s" % (context, reason)
    return VfpoolError(err, reason)


def _b(s: Optional[str]) -> Optional[bytes]:
    return None if s is None else s.encode("utf-8", "surrogateescape")


def _s(b: bytes) -> str:
    # names are bytes in the kernel: keep every one (os.fsdecode's rule)
    return b.decode("utf-8", "surrogateescape")


def _mac(mac) -> Optional[ctypes.Array]:
    if mac is None:
        return None
    if isinstance(mac, str):
        parts = mac.split(":")
        if len(parts) != 6 or not all(len(p) == 2 for p in parts):
            raise ValueError("not a MAC address: %r" % mac)
        mac = bytes(int(p, 16) for p in parts)
    if len(mac) != 6:
        raise ValueError("a MAC has 6 bytes")
    return (ctypes.c_uint8 * 6)(*mac)


# ---- leases -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Lease:
    pci_addr: str
    netdev: str
    pf_netdev: str
    pf_index: int
    vf_index: int
    iommu_group: int
    numa_node: int
    generation: int
    existing: bool      # the vNIC already held it: nothing of the request was applied anew
    numa_miss: bool     # no VF on the preferred node
    use_bridge: bool    # no lease: a preferred profile found no VF, use the bridge

    @classmethod
    def _from_c(cls, c: _Lease) -> "Lease":
        return cls(_s(c.pci_addr), _s(c.netdev), _s(c.pf_netdev), c.pf_index, c.vf_index,
                   c.iommu_group, c.numa_node, c.generation,
                   bool(c.flags & LEASE_EXISTING), bool(c.flags & LEASE_NUMA_MISS),
                   bool(c.flags & LEASE_USE_BRIDGE))


@dataclass
class VnicRequest:
    """One vNIC of Client.alloc_vm."""
    vnic_id: str
    network: Optional[str] = None
    profile: Optional[str] = None
    mac: Optional[str] = None
    pin_pci: Optional[str] = None
    numa_node: Optional[int] = None
    numa_required: bool = False  # numa_node or none (the bridge for a preferred profile)


class Client:
    """A connection to vfpoold. One thread at a time (like the C handle)."""

    def __init__(self, run_dir: Optional[str] = None, timeout_ms: int = 0):
        self._lib = _library()
        self._h = ctypes.c_void_p()
        self._lock = threading.Lock()
        opts = _sized(_Opts)
        opts.timeout_ms = timeout_ms
        r = self._lib.vfpool_connect(_b(run_dir), ctypes.byref(opts), ctypes.byref(self._h))
        if r < 0:
            where = run_dir or os.environ.get("VFPOOL_RUN_DIR") or "/run/vfpool"
            if r == -_errno.ECONNREFUSED:
                raise VfpoolError(-r, "no vfpoold listening at %s/vfpool.sock" % where)
            raise _fail(r, context=where)

    def close(self) -> None:
        with self._lock:
            if self._h:
                self._lib.vfpool_close(self._h)
                self._h = ctypes.c_void_p()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def _handle(self):
        if not self._h:
            raise VfpoolError(_errno.EBADF, "the client is closed")
        return self._h

    def alloc(self, vm_id: str, vnic_id: str, network: Optional[str] = None, *,
              profile: Optional[str] = None, mac=None, pin_pci: Optional[str] = None,
              numa_node: Optional[int] = None, numa_required: bool = False,
              bind_pid: Optional[int] = None) -> Lease:
        """A VF for the vNIC; asking again returns the lease it holds (existing=True).
        A preferred profile with no VF free, or a profile that is not passthrough, returns
        a lease with use_bridge=True. numa_required: on numa_node or none."""
        req = _sized(_AllocReq)
        req.vm_id, req.vnic_id = _b(vm_id), _b(vnic_id)
        req.network, req.profile, req.pin_pci = _b(network), _b(profile), _b(pin_pci)
        macbuf = _mac(mac)
        if macbuf is not None:
            req.mac = ctypes.cast(macbuf, ctypes.POINTER(ctypes.c_uint8))
        if numa_node is not None:
            req.numa_node, req.flags = numa_node, req.flags | ALLOC_NUMA
            if numa_required:
                req.flags |= ALLOC_NUMA_REQUIRED
        elif numa_required:
            raise ValueError("numa_required needs numa_node")
        if bind_pid is not None:
            req.bind_pid, req.flags = bind_pid, req.flags | ALLOC_BIND_PID
        lease = _sized(_Lease)
        why = ctypes.create_string_buffer(256)
        with self._lock:
            r = self._lib.vfpool_alloc(self._handle(), ctypes.byref(req), ctypes.byref(lease),
                                       why, ctypes.sizeof(why))
        if r == USE_BRIDGE:
            return Lease("", "", "", 0, 0, -1, -1, 0, False, False, True)
        if r < 0:
            raise _fail(r, why.value, "%s/%s" % (vm_id, vnic_id))
        return Lease._from_c(lease)

    def alloc_vm(self, vm_id: str, vnics: Sequence[VnicRequest]) -> List[Lease]:
        """Every vNIC of the VM, all or none (1 to 32)."""
        n = len(vnics)
        if not 1 <= n <= 32:
            raise ValueError("alloc_vm takes 1 to 32 vNICs")
        reqs = (_VnicReq * n)()
        keep = []
        for i, v in enumerate(vnics):
            r = reqs[i]
            r.sz = ctypes.sizeof(_VnicReq)
            r.vnic_id, r.network, r.profile = _b(v.vnic_id), _b(v.network), _b(v.profile)
            r.pin_pci = _b(v.pin_pci)
            macbuf = _mac(v.mac)
            if macbuf is not None:
                keep.append(macbuf)
                r.mac = ctypes.cast(macbuf, ctypes.POINTER(ctypes.c_uint8))
            if v.numa_node is not None:
                r.numa_node, r.flags = v.numa_node, ALLOC_NUMA
                if v.numa_required:
                    r.flags |= ALLOC_NUMA_REQUIRED
            elif v.numa_required:
                raise ValueError("numa_required needs numa_node")
        leases = (_Lease * n)()
        leases[0].sz = ctypes.sizeof(_Lease)
        why = ctypes.create_string_buffer(256)
        with self._lock:
            r = self._lib.vfpool_alloc_vm(self._handle(), _b(vm_id), reqs, n, leases, why,
                                          ctypes.sizeof(why))
        if r < 0:
            raise _fail(r, why.value, vm_id)
        return [Lease._from_c(leases[i]) for i in range(n)]

    def release(self, vm_id: str, vnic_id: str, generation: int = 0) -> None:
        """Releases the vNIC's lease (only that generation's, when not 0)."""
        why = ctypes.create_string_buffer(256)
        with self._lock:
            r = self._lib.vfpool_release(self._handle(), _b(vm_id), _b(vnic_id), generation,
                                         why, ctypes.sizeof(why))
        if r < 0:
            raise _fail(r, why.value, "%s/%s" % (vm_id, vnic_id))

    def command(self, *words: str) -> str:
        """A daemon command ("network", "add", "red"); its text, or VfpoolError."""
        argv = (ctypes.c_char_p * len(words))(*[_b(w) for w in words])
        out = ctypes.c_void_p()
        with self._lock:
            r = self._lib.vfpool_command(self._handle(), len(words), argv, ctypes.byref(out))
        text = ctypes.string_at(out.value).decode("utf-8", "replace") if out.value else ""
        if out.value:
            _libc_free(out)
        if r < 0:
            raise _fail(r, text.encode(), " ".join(words))
        return text


# ---- the snapshot -------------------------------------------------------------------------

@dataclass(frozen=True)
class PfInfo:
    index: int
    pci_addr: str
    netdev: str
    driver: str
    vendor: int
    device: int
    numa_node: int
    total_vfs: int
    existing: int
    free: int
    leased: int
    host_busy: int
    iommu_shared: int
    bound_other: int
    dirty: int


@dataclass(frozen=True)
class VfInfo:
    pci_addr: str
    netdev: str
    pf_index: int
    vf_index: int
    iommu_group: int
    numa_node: int
    status: str          # free, leased, host-busy, iommu-shared, bound-other, absent, dirty
    reason: str
    generation: int
    vm_id: str
    vnic_id: str
    network: str
    mac: str
    vlan: int
    host_use: Tuple[str, ...] = ()  # how the host uses the VF's netdev (HOST_USES)


@dataclass(frozen=True)
class NetworkInfo:
    name: str
    label: str
    vlan: int
    mtu: int
    pf_indexes: List[int]


@dataclass(frozen=True)
class DaemonInfo:
    pid: int
    requests: int
    errors: int
    probe_mode: str
    journal_records_lost: int = 0  # damaged journal records skipped at the daemon's start


@dataclass(frozen=True)
class Snapshot:
    daemon: DaemonInfo
    pfs: List[PfInfo] = field(default_factory=list)
    vfs: List[VfInfo] = field(default_factory=list)
    networks: List[NetworkInfo] = field(default_factory=list)

    def leases(self, vm_id: Optional[str] = None) -> List[VfInfo]:
        return [v for v in self.vfs if v.status == "leased" and
                (vm_id is None or v.vm_id == vm_id)]


def _not_running(lib, run_dir: Optional[str]) -> Optional[str]:
    """vfpoolctl's words for a daemon that is not running: "vfpoold is not running (last
    state from 2026-01-31 12:00:03 UTC); process 812 is gone", or None if it runs now."""
    s = ctypes.c_void_p()
    if lib.vfpool_snapshot_take_last(_b(run_dir), ctypes.byref(s)) < 0:
        return None
    try:
        live = _sized(_Liveness)
        if lib.vfpool_snapshot_liveness(s, ctypes.byref(live)) < 0 or live.running:
            return None
        when = time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(live.heartbeat_ns / 1e9))
        return "vfpoold is not running (last state from %s); %s" % (when, _s(live.why))
    finally:
        lib.vfpool_snapshot_free(s)


def snapshot(run_dir: Optional[str] = None) -> Snapshot:
    """One consistent read of the daemon's state (no round trip). A daemon that is not
    running (crashed, shut down, no heartbeat) raises VfpoolError EOWNERDEAD: its last
    state is never returned as current."""
    lib = _library()
    s = ctypes.c_void_p()
    r = lib.vfpool_snapshot_take(_b(run_dir), ctypes.byref(s))
    if r < 0:
        where = run_dir or os.environ.get("VFPOOL_RUN_DIR") or "/run/vfpool"
        if r == -_errno.ECONNREFUSED:
            raise VfpoolError(-r, "no vfpoold serving %s (no state segment there)" % where)
        if r == -_errno.EOWNERDEAD:
            raise VfpoolError(-r, _not_running(lib, run_dir) or
                              "vfpoold is not running (%s/state is its last state)" % where)
        raise _fail(r, context="%s/state" % where)
    try:
        d = _sized(_DaemonInfo)
        lib.vfpool_snapshot_daemon(s, ctypes.byref(d))
        snap = Snapshot(DaemonInfo(d.pid, d.requests, d.errors, _s(d.probe_mode),
                                   d.journal_records_lost))
        for i in range(lib.vfpool_snapshot_pf_count(s)):
            p = _sized(_PfInfo)
            if lib.vfpool_snapshot_pf(s, i, ctypes.byref(p)) == 0:
                snap.pfs.append(PfInfo(i, _s(p.pci_addr), _s(p.netdev), _s(p.driver),
                                       p.vendor, p.device, p.numa_node, p.total_vfs,
                                       p.existing, p.free, p.leased, p.host_busy,
                                       p.iommu_shared, p.bound_other, p.dirty))
        for i in range(lib.vfpool_snapshot_vf_count(s)):
            v = _sized(_VfInfo)
            if lib.vfpool_snapshot_vf(s, i, ctypes.byref(v)) != 0:
                continue
            status = _VF_STATUS[v.status] if 0 <= v.status < len(_VF_STATUS) else "unknown"
            mac = ":".join("%02x" % b for b in v.mac) if any(v.mac) else ""
            snap.vfs.append(VfInfo(_s(v.pci_addr), _s(v.netdev), v.pf_index, v.vf_index,
                                   v.iommu_group, v.numa_node, status, _s(v.reason),
                                   v.generation, _s(v.vm_id), _s(v.vnic_id),
                                   _s(v.network), mac, v.vlan,
                                   tuple(n for k, n in enumerate(HOST_USES)
                                         if v.host_use >> k & 1)))
        for i in range(lib.vfpool_snapshot_network_count(s)):
            n = _sized(_NetworkInfo)
            if lib.vfpool_snapshot_network(s, i, ctypes.byref(n)) != 0:
                continue
            allowed = [k for k in range(256) if (n.pf_allowed[k // 64] >> (k % 64)) & 1]
            snap.networks.append(NetworkInfo(_s(n.name), _s(n.label), n.vlan, n.mtu, allowed))
        return snap
    finally:
        lib.vfpool_snapshot_free(s)


def capacity(network: Optional[str] = None, run_dir: Optional[str] = None) -> Dict[str, dict]:
    """Free VFs per network: {"red": {"free": N, "pfs": {"ens1f0": N}, "numa": {0: N}}},
    as `vfpoolctl capacity` counts them. With network, only that one (KeyError-free:
    VfpoolError ENOENT when it is not defined)."""
    snap = snapshot(run_dir)
    out = {}
    for n in snap.networks:
        if network is not None and n.name != network:
            continue
        entry = {"free": 0, "pfs": {}, "numa": {}}
        for k in n.pf_indexes:
            if k >= len(snap.pfs):
                continue
            pf = snap.pfs[k]
            entry["pfs"][pf.netdev or pf.pci_addr] = pf.free
            entry["numa"][pf.numa_node] = entry["numa"].get(pf.numa_node, 0) + pf.free
            entry["free"] += pf.free
        out[n.name] = entry
    if network is not None and network not in out:
        raise VfpoolError(_errno.ENOENT, "network %s: not defined" % network)
    return out
