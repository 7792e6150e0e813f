/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/udev_testbed.h"

void testbed_require_wrapper(void)
{
	const char *preload = getenv("LD_PRELOAD");

	if (!umockdev_in_mock_environment() && !(preload && strstr(preload, "umockdev")))
		cr_skip_test("needs umockdev-wrapper (run through tests/run.sh): without its "
			     "preload the testbed would not replace /sys");
}

UMockdevTestbed *testbed_from_fixture(const char *name)
{
	UMockdevTestbed *tb;
	GError *err = NULL;
	char path[512];

	testbed_require_wrapper();
	snprintf(path, sizeof(path), "tests/fixtures/%s", name);
	tb = umockdev_testbed_new();
	cr_assert(tb, "umockdev_testbed_new failed");
	if (!umockdev_testbed_add_from_file(tb, path, &err))
		cr_assert_fail("loading fixture %s: %s", path, err ? err->message : "unknown error");
	return tb;
}

char *testbed_sys_path(UMockdevTestbed *tb, const char *rel)
{
	char *sys = umockdev_testbed_get_sys_dir(tb), *p = NULL;

	cr_assert(asprintf(&p, "%s/%s", sys, rel) > 0);
	g_free(sys);
	return p;
}

void testbed_read(UMockdevTestbed *tb, const char *rel, char *buf, size_t len)
{
	char *p = testbed_sys_path(tb, rel);
	/* the testbed's own path: read it as a plain file, around the /sys redirection */
	FILE *f = fopen(p, "re");
	size_t n;

	cr_assert(f, "open %s: %s", p, strerror(errno));
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	free(p);
}

void testbed_add_pci_driver(UMockdevTestbed *tb, const char *driver)
{
	char rel[256], *p;

	snprintf(rel, sizeof(rel), "bus/pci/drivers/%s", driver);
	p = testbed_sys_path(tb, rel);
	cr_assert(g_mkdir_with_parents(p, 0755) == 0, "mkdir %s: %s", p, strerror(errno));
	free(p);
}
