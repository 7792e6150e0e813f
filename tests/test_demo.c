/* SPDX-License-Identifier: MIT */
/* `make demo` is the README's first command: it must keep working. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "tests/daemon_fixture.h"

/* Regression: the demo's state dir was <run-dir>/state, the state segment's own path, and
 * the daemon refused to start once nothing else created that directory first. */
Test(demo, demo_script_runs_the_load_and_shows_the_snapshot, .timeout = 120)
{
	char cmd[512], out[16384];
	size_t n;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "bash demo/run.sh %s 2>&1", test_build_path(""));
	p = popen(cmd, "r");
	cr_assert(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	cr_assert_eq(pclose(p), 0, "demo failed:\n%s", out);
	cr_assert(strstr(out, "errors:  0"), "the launcher load had errors:\n%s", out);
	cr_assert(strstr(out, "burst: 32 VMs (64 vNICs) started in one batch"), "%s", out);
	cr_assert(strstr(out, "(64 VFs leased in all)"), "the burst's VMs stay running:\n%s", out);
	cr_assert(strstr(out, "IOMMU group 115 shared with"), "%s", out);
	cr_assert(strstr(out, "event=shutdown"), "the daemon stops cleanly:\n%s", out);
}
