/* SPDX-License-Identifier: MIT */
/* The man pages render without a groff warning, and libvfpool(3) documents every public
 * function of include/vfpool/vfpool.h. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/daemon_fixture.h"
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

/* mandoc's strictest reading of a page: no style note, no warning, no error. The .so
 * pages (one line pointing at libvfpool(3)) are checked by the test after this one. */
Test(man, every_page_is_mandoc_lint_clean)
{
	char *out;

	cr_assert_eq(access("/usr/bin/mandoc", X_OK), 0, "mandoc is not installed: make deps "
		     "installs it");
	cr_assert_eq(run_capture(&out, "for p in man/*.[38]; do grep -q '^\\.so ' \"$p\" || "
				 "mandoc -Tlint -W style \"$p\"; done 2>&1"), 0, "%s", out);
	cr_assert_str_empty(out, "%s", out);
	free(out);
}

Test(man, every_public_function_has_its_own_page)
{
	char *funcs, *save = NULL, path[128], line[128];
	unsigned n = 0;

	cr_assert_eq(run_capture(&funcs, "tr '\\n' ' ' < include/vfpool/vfpool.h | "
				 "grep -o 'VFPOOL_API [^(;]*(' | grep -o 'vfpool_[a-z0-9_]*($' | "
				 "tr -d '('"), 0);
	for (char *f = strtok_r(funcs, "\n", &save); f; f = strtok_r(NULL, "\n", &save)) {
		FILE *page;

		snprintf(path, sizeof(path), "man/%s.3", f);
		page = fopen(path, "r");
		cr_assert(page, "no %s: `man %s` would find nothing", path, f);
		cr_assert(fgets(line, sizeof(line), page));
		fclose(page);
		/* a link to the page that documents it, whose NAME lists it for whatis */
		cr_assert_str_eq(line, ".so man3/libvfpool.3\n", "%s", path);
		n++;
	}
	cr_assert_geq(n, 20u);
	free(funcs);
	cr_assert_eq(run_capture(&funcs, "ls man/vfpool_*.3 | wc -l"), 0);
	cr_assert_eq((unsigned)atoi(funcs), n, "a page for a function the header lost");
	free(funcs);
}

/* The page rendered as a reader sees it: no hyphenation, no line breaks inside a name. */
static char *rendered(const char *page)
{
	char *out;

	cr_assert_eq(run_capture(&out, "mandoc -Tascii -O width=400 %s | col -b", page), 0);
	return out;
}

/* Every "--option" a --help prints is in the page. */
static void options_documented(const char *help_cmd, const char *page_text, const char *page)
{
	char *help, *save = NULL;

	unsigned n = 0;

	cr_assert_eq(run_capture(&help, "%s | grep -o -- '--[a-z][a-z-]*' | sort -u", help_cmd), 0,
		     "%s", help_cmd);
	for (char *o = strtok_r(help, "\n", &save); o; o = strtok_r(NULL, "\n", &save)) {
		cr_assert(strstr(page_text, o), "%s accepts %s; %s does not say so", help_cmd, o,
			  page);
		n++;
	}
	/* every --help names --json or --help at least: none means it did not run */
	cr_assert_gt(n, 0u, "%s printed no option", help_cmd);
	free(help);
}

Test(man, vfpoolctl_8_has_every_command_and_option_its_help_lists)
{
	char *page = rendered("man/vfpoolctl.8"), *cmds, *save = NULL, help[768], ctl[600];
	unsigned n = 0;

	snprintf(ctl, sizeof(ctl), "%s", test_build_path("vfpoolctl"));
	snprintf(help, sizeof(help), "%s --help", ctl);
	options_documented(help, page, "vfpoolctl(8)");
	snprintf(help, sizeof(help), "%s --json --help | grep -o '\"command\":\"[^\"]*\"' | "
		 "cut -d'\"' -f4", ctl);
	cr_assert_eq(run_capture(&cmds, "%s", help), 0);
	for (char *c = strtok_r(cmds, "\n", &save); c; c = strtok_r(NULL, "\n", &save)) {
		char section[96];

		cr_assert(strstr(page, c), "vfpoolctl %s is not in vfpoolctl(8)", c);
		/* its options, and a JSON schema */
		snprintf(help, sizeof(help), "%s %s --help", ctl, c);
		options_documented(help, page, "vfpoolctl(8)");
		snprintf(section, sizeof(section), "\n   %s\n", c);
		cr_assert(strstr(page, section) || strstr(page, c), "%s", c);
		n++;
	}
	cr_assert_geq(n, 25u);
	cr_assert(strstr(page, "JSON OUTPUT"), "the schemas");
	free(cmds);
	free(page);
}

Test(man, vfpoold_8_has_every_option_its_help_lists)
{
	char *page = rendered("man/vfpoold.8"), cmd[600];

	snprintf(cmd, sizeof(cmd), "%s --help", test_build_path("vfpoold"));
	options_documented(cmd, page, "vfpoold(8)");
	free(page);
}
