/* SPDX-License-Identifier: MIT */
/* Shared by the umockdev-based suites: a testbed loaded from a fixture under
 * tests/fixtures/, and a way to tell whether the binary runs under umockdev-wrapper. */
#ifndef VFPOOL_TESTS_UDEV_TESTBED_H
#define VFPOOL_TESTS_UDEV_TESTBED_H

#include <stdbool.h>

#include <umockdev.h>

/* Skip (with the reason) unless the preload that redirects /sys is active. */
void testbed_require_wrapper(void);

/* A new testbed with tests/fixtures/<name> loaded; asserts on failure. */
UMockdevTestbed *testbed_from_fixture(const char *name);

/* <testbed root>/sys/<rel>: for the files a test reads back (what the daemon wrote). */
char *testbed_sys_path(UMockdevTestbed *tb, const char *rel);

/* Reads a small testbed file into buf; asserts on failure. */
void testbed_read(UMockdevTestbed *tb, const char *rel, char *buf, size_t len);

/* umockdev can only create devices under /sys/devices; a loaded PCI driver is a directory
 * under /sys/bus/pci/drivers, so tests create it in the testbed's root directly. */
void testbed_add_pci_driver(UMockdevTestbed *tb, const char *driver);

#endif
