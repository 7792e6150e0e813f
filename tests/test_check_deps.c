/* SPDX-License-Identifier: MIT */
/* scripts/check-deps against small trees (tests/fixtures/deps/<tree>/, its output in
 * <tree>.out) checked with the repository's deps.rules: each kind of broken rule is caught
 * and reported, and a clean tree in subsystem folders passes. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/run_cmd.h"

static char *expected_output(const char *tree)
{
	char path[256], *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "tests/fixtures/deps/%s.out", tree);
	f = fopen(path, "r");
	cr_assert(f, "%s missing", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	cr_assert(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void check_tree(const char *tree, int want_status)
{
	char *out, *want = expected_output(tree);

	if (system("python3 -c '' 2>/dev/null") != 0)
		cr_skip_test("needs python3: scripts/check-deps is a Python 3 script");
	int st = run_capture(&out, "python3 scripts/check-deps --rules deps.rules "
			     "--root tests/fixtures/deps/%s", tree);
	cr_assert_eq(st, want_status, "exit %d, printed:\n%s", st, out);
	cr_assert_str_eq(out, want, "%s: printed\n%s", tree, out);
	free(out);
	free(want);
}

Test(check_deps, clean_tree_in_subsystem_folders_passes)
{
	/* same basename in two folders is two modules; tests/ may cycle; generated and
	 * same-directory headers resolve */
	check_tree("clean", 0);
}

Test(check_deps, shm_including_anything_of_ours_fails)
{
	check_tree("shm_includes_ours", 1);
}

Test(check_deps, client_including_core_or_bpf_fails)
{
	check_tree("client_includes_core_or_bpf", 1);
}

Test(check_deps, bpf_including_core_fails)
{
	check_tree("bpf_includes_core", 1);
}

Test(check_deps, core_including_client_fails)
{
	check_tree("core_includes_client", 1);
}

Test(check_deps, module_include_cycle_fails_with_its_path)
{
	/* through folders and a private header (core/daemon_internal.h is core/daemon's) */
	check_tree("cycle", 1);
}

Test(check_deps, folder_with_its_own_rule_is_a_part_of_its_own)
{
	/* core/model (its rule: shm only) including core/log.h fails, core/lease including
	 * core/model passes (core's rule names it), core/modeling is core's (a prefix counts
	 * at a folder boundary only), and "acyclic core" covers the cycle inside core/model */
	check_tree("nested_part", 1);
}

Test(check_deps, part_without_a_rule_or_include_from_nowhere_fails)
{
	check_tree("unknown", 1);
}
