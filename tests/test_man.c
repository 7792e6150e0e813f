/* SPDX-License-Identifier: MIT */
/* The man pages render without a groff warning, and libvfpool(3) documents every public
 * function of include/vfpool/vfpool.h. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/run_cmd.h"

static void renders_without_warnings(const char *page)
{
	char *out;

	cr_assert_eq(access(page, R_OK), 0, "%s: run from the source tree (tests/run.sh does)", page);
	cr_assert_eq(access("/usr/bin/man", X_OK), 0, "man is not installed: make deps installs man-db");
	/* -Tutf8, not "-T utf8": -T takes its device only when attached */
	cr_assert_eq(run_capture(&out, "man -l --warnings -E UTF-8 -Tutf8 %s 2>&1 >/dev/null", page),
		     0, "man -l %s failed", page);
	cr_assert_str_empty(out, "%s: %s", page, out);
	free(out);
}

Test(man, vfpoold_8_renders_without_warnings)
{
	renders_without_warnings("man/vfpoold.8");
}

Test(man, vfpoolctl_8_renders_without_warnings)
{
	renders_without_warnings("man/vfpoolctl.8");
}

Test(man, vfpool_k8s_8_renders_without_warnings)
{
	renders_without_warnings("man/vfpool-k8s.8");
}

Test(man, libvfpool_3_renders_without_warnings)
{
	renders_without_warnings("man/libvfpool.3");
}

Test(man, libvfpool_3_has_a_section_per_public_function)
{
	char *funcs, *page, *save = NULL;
	unsigned n = 0;

	/* every "VFPOOL_API type name(" declaration in the public header */
	cr_assert_eq(run_capture(&funcs, "tr '\\n' ' ' < include/vfpool/vfpool.h | "
				 "grep -o 'VFPOOL_API [^(;]*(' | grep -o 'vfpool_[a-z0-9_]*($' | "
				 "tr -d '('"), 0);
	cr_assert_eq(run_capture(&page, "cat man/libvfpool.3"), 0);
	for (char *f = strtok_r(funcs, "\n", &save); f; f = strtok_r(NULL, "\n", &save)) {
		char want[128];

		snprintf(want, sizeof(want), "\n.SS %s\n", f);
		cr_assert(strstr(page, want), "libvfpool.3 has no section for %s", f);
		n++;
	}
	cr_assert_geq(n, 20u, "found only %u public functions in vfpool.h", n);
	free(funcs);
	free(page);
}
