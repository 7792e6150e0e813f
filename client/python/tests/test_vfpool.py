# SPDX-License-Identifier: MIT
"""The vfpool Python module against a real vfpoold --simulate (unittest).

Run through tests/python.sh BUILD_DIR (make check does): it points VFPOOL_BUILD at the
build directory, whose vfpoold these tests start and whose libvfpool the module loads.
"""
import errno
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import vfpool  # noqa: E402

BUILD = os.environ.get("VFPOOL_BUILD", "build")


class Daemon:
    """vfpoold --simulate in a private run directory, stopped (and checked) at the end."""

    def __init__(self, simulate="2x4"):
        self.run_dir = tempfile.mkdtemp(prefix="vfpool-py.")
        self.log = open(os.path.join(self.run_dir, "daemon.log"), "wb")
        self.proc = subprocess.Popen(
            [os.path.join(BUILD, "vfpoold"), "--simulate", simulate, "--run-dir",
             self.run_dir, "--state-dir", self.run_dir],
            stdout=self.log, stderr=subprocess.STDOUT)
        sock = os.path.join(self.run_dir, "vfpool.sock")
        for _ in range(500):
            if self.proc.poll() is not None:
                raise RuntimeError("vfpoold exited early: see %s/daemon.log" % self.run_dir)
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(sock)
                s.close()
                return
            except OSError:
                time.sleep(0.01)
        raise RuntimeError("vfpoold did not open its socket in 5 s")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(10)
        self.log.close()
        shutil.rmtree(self.run_dir, ignore_errors=True)
        return rc


class WithDaemon(unittest.TestCase):
    simulate = "2x4"

    def setUp(self):
        self.d = Daemon(self.simulate)
        self.c = vfpool.Client(self.d.run_dir)

    def tearDown(self):
        self.c.close()
        self.assertEqual(self.d.stop(), 0, "vfpoold did not shut down cleanly")


class TestLeases(WithDaemon):
    def test_alloc_then_release_leaves_no_lease(self):
        lease = self.c.alloc("vm1", "net0", "red")
        self.assertEqual(lease.pci_addr, "0001:00:00.0")
        self.assertEqual(lease.pf_netdev, "ens1f0")
        self.assertFalse(lease.existing)
        self.assertEqual(len(vfpool.snapshot(self.d.run_dir).leases("vm1")), 1)
        self.c.release("vm1", "net0", lease.generation)
        self.assertEqual(vfpool.snapshot(self.d.run_dir).leases("vm1"), [])

    def test_asking_again_returns_the_held_lease_marked_existing(self):
        first = self.c.alloc("vm1", "net0", "red", mac="52:54:00:00:00:01")
        again = self.c.alloc("vm1", "net0", "red")
        self.assertTrue(again.existing)
        self.assertEqual(again.generation, first.generation)
        vf = vfpool.snapshot(self.d.run_dir).leases("vm1")[0]
        self.assertEqual(vf.mac, "52:54:00:00:00:01")

    def test_a_refusal_carries_errno_and_the_daemons_reason(self):
        self.c.command("network", "add", "blue")
        with self.assertRaises(vfpool.VfpoolError) as e:
            self.c.alloc("vmX", "net0", "red")
        self.assertEqual(e.exception.errno, errno.ENOENT)
        self.assertEqual(e.exception.strerror, "vmX/net0: network red not defined")
        self.assertIsInstance(e.exception, OSError)

    def test_no_vf_free_is_enospc_naming_each_pf(self):
        for i in range(8):
            self.c.alloc("vm%d" % i, "net0", "red")
        with self.assertRaises(vfpool.VfpoolError) as e:
            self.c.alloc("vm9", "net0", "red")
        self.assertEqual(e.exception.errno, errno.ENOSPC)
        self.assertIn("ens1f0", e.exception.strerror)
        self.assertIn("ens1f1", e.exception.strerror)

    def test_release_of_a_vnic_without_a_lease_is_enoent_with_the_reason(self):
        with self.assertRaises(vfpool.VfpoolError) as e:
            self.c.release("vm1", "net0")
        self.assertEqual(e.exception.errno, errno.ENOENT)
        self.assertEqual(e.exception.strerror, "vm1/net0: holds no lease")

    def test_a_stale_generation_is_estale(self):
        lease = self.c.alloc("vm1", "net0", "red")
        with self.assertRaises(vfpool.VfpoolError) as e:
            self.c.release("vm1", "net0", lease.generation + 7)
        self.assertEqual(e.exception.errno, errno.ESTALE)

    def test_alloc_vm_is_all_or_nothing(self):
        leases = self.c.alloc_vm("vm1", [vfpool.VnicRequest("net0", "red"),
                                         vfpool.VnicRequest("net1", "red",
                                                            mac="52:54:00:00:00:09")])
        self.assertEqual(len({l.pci_addr for l in leases}), 2, leases)
        self.assertEqual(len(vfpool.snapshot(self.d.run_dir).leases("vm1")), 2)
        with self.assertRaises(vfpool.VfpoolError):
            self.c.alloc_vm("vm2", [vfpool.VnicRequest("n%d" % i, "red") for i in range(7)])
        self.assertEqual(vfpool.snapshot(self.d.run_dir).leases("vm2"), [],
                         "a refused VM holds nothing")

    def test_a_numa_preference_is_passed(self):
        lease = self.c.alloc("vm1", "net0", "red", numa_node=0)
        self.assertFalse(lease.numa_miss)

    def test_a_required_numa_node_is_that_node_or_none(self):
        with self.assertRaises(vfpool.VfpoolError) as e:
            self.c.alloc("vm1", "net0", "red", numa_node=1, numa_required=True)
        self.assertEqual(e.exception.errno, errno.ENOSPC)
        self.assertIn("none on NUMA node 1 (required)", e.exception.strerror)
        lease = self.c.alloc("vm1", "net0", "red", numa_node=1)
        self.assertTrue(lease.numa_miss, "preferred: elsewhere")

    def test_a_bridge_vnic_is_part_of_a_vm_request(self):
        self.c.command("network", "add", "red")
        self.c.command("profile", "add", "br", "--network", "red", "--passthrough", "none")
        leases = self.c.alloc_vm("vm1", [vfpool.VnicRequest("net0", "red"),
                                         vfpool.VnicRequest("net1", profile="br")])
        self.assertTrue(leases[0].pci_addr)
        self.assertTrue(leases[1].use_bridge)


class TestViews(WithDaemon):
    def test_snapshot_has_pfs_vfs_and_networks(self):
        self.c.command("network", "add", "red", "--vlan", "10")
        self.c.alloc("vm1", "net0", "red")
        snap = vfpool.snapshot(self.d.run_dir)
        self.assertEqual([p.netdev for p in snap.pfs], ["ens1f0", "ens1f1"])
        self.assertEqual(len(snap.vfs), 8)
        self.assertEqual(snap.pfs[0].leased, 1)
        self.assertEqual(snap.networks[0].name, "red")
        self.assertEqual(snap.networks[0].vlan, 10)
        self.assertEqual(snap.daemon.pid, self.d.proc.pid)

    def test_capacity_counts_free_vfs_per_network_pf_and_node(self):
        self.c.command("network", "add", "red")
        self.c.command("pf", "config", "ens1f1", "--all-networks", "off")
        self.c.alloc("vm1", "net0", "red")
        cap = vfpool.capacity(run_dir=self.d.run_dir)
        self.assertEqual(cap["red"]["pfs"], {"ens1f0": 3})
        self.assertEqual(cap["red"]["numa"], {0: 3})
        self.assertEqual(cap["red"]["free"], 3)
        with self.assertRaises(vfpool.VfpoolError) as e:
            vfpool.capacity("blue", run_dir=self.d.run_dir)
        self.assertEqual(e.exception.errno, errno.ENOENT)

    def test_command_failure_raises_with_the_daemons_text(self):
        with self.assertRaises(vfpool.VfpoolError) as e:
            self.c.command("vm", "migrate-check", "vm1", "extra")
        # the daemon's usage status (VFPOOL_CTL_EUSAGE), not a refused value's EINVAL
        self.assertEqual(e.exception.errno, errno.EBADRQC)
        self.assertIn("usage", e.exception.strerror)
        self.assertEqual(self.c.command("ping"), "pong")


class TestNoDaemon(unittest.TestCase):
    def test_no_daemon_is_econnrefused_and_says_so(self):
        d = tempfile.mkdtemp(prefix="vfpool-py-none.")
        try:
            with self.assertRaises(vfpool.VfpoolError) as e:
                vfpool.Client(d)
            self.assertEqual(e.exception.errno, errno.ECONNREFUSED)
            self.assertEqual(e.exception.strerror,
                             "no vfpoold listening at %s/vfpool.sock" % d)
            with self.assertRaises(vfpool.VfpoolError) as e:
                vfpool.snapshot(d)
            self.assertEqual(e.exception.errno, errno.ECONNREFUSED)
        finally:
            os.rmdir(d)

    def test_snapshot_of_a_killed_daemon_is_eownerdead_saying_so(self):
        d = Daemon("1x2")
        try:
            self.assertEqual(vfpool.snapshot(d.run_dir).daemon.pid, d.proc.pid)
            d.proc.send_signal(signal.SIGKILL)
            d.proc.wait(10)
            with self.assertRaises(vfpool.VfpoolError) as e:
                vfpool.snapshot(d.run_dir)
            self.assertEqual(e.exception.errno, errno.EOWNERDEAD)
            self.assertRegex(e.exception.strerror,
                             r"^vfpoold is not running \(last state from [0-9-]+ [0-9:]+ .*\); "
                             r"process %d is gone$" % d.proc.pid)
        finally:
            d.log.close()
            shutil.rmtree(d.run_dir, ignore_errors=True)

    def test_the_run_dir_comes_from_vfpool_run_dir(self):
        d = Daemon("1x2")
        old = os.environ.get("VFPOOL_RUN_DIR")
        os.environ["VFPOOL_RUN_DIR"] = d.run_dir
        try:
            with vfpool.Client() as c:
                self.assertEqual(c.alloc("vm1", "net0", "red").pci_addr, "0001:00:00.0")
            self.assertEqual(len(vfpool.snapshot().pfs), 1)
        finally:
            if old is None:
                del os.environ["VFPOOL_RUN_DIR"]
            else:
                os.environ["VFPOOL_RUN_DIR"] = old
            self.assertEqual(d.stop(), 0)

    def test_the_library_found_is_the_build_trees(self):
        self.assertTrue(os.path.samefile(vfpool.library_path(),
                                         os.path.join(BUILD, "libvfpool.so.1")))


if __name__ == "__main__":
    unittest.main()
