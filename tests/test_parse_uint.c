/* SPDX-License-Identifier: MIT */
/* Strict decimal numbers (core/base/parse_uint.h): digits only, the whole string, at most
 * the caller's maximum; and the two places an operator types them into vfpoold. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/base/parse_uint.h"
#include "core/model/host.h"
#include "core/numvfs/numvfs.h"
#include "tests/daemon_fixture.h"
#include "tests/run_cmd.h"
#include "tests/state_dir.h"
#include "vfpool/vfpool.h"

#define UNTOUCHED 0xdeadbeefu

struct number_case {
	const char *s;
	unsigned max;
	int want;       /* 0, -EINVAL or -ERANGE */
	unsigned value; /* when want == 0 */
};

static const struct number_case number_cases[] = {
	{ "0", 10, 0, 0 },
	{ "7", 10, 0, 7 },
	{ "10", 10, 0, 10 },
	{ "007", 10, 0, 7 },
	{ "4294967295", UINT_MAX, 0, UINT_MAX },
	{ NULL, 10, -EINVAL, 0 },
	{ "", 10, -EINVAL, 0 },
	{ "7x", 10, -EINVAL, 0 },
	{ "x7", 10, -EINVAL, 0 },
	{ "-1", UINT_MAX, -EINVAL, 0 }, /* strtoul: ULONG_MAX, no error */
	{ "-0", 10, -EINVAL, 0 },
	{ "+7", 10, -EINVAL, 0 },
	{ " 7", 10, -EINVAL, 0 },
	{ "\t7", 10, -EINVAL, 0 },
	{ "7 ", 10, -EINVAL, 0 },
	{ "7\n", 10, -EINVAL, 0 },
	{ "0x7", 10, -EINVAL, 0 },
	{ "1e3", 10000, -EINVAL, 0 },
	{ "7.0", 10, -EINVAL, 0 },
	{ "\xd9\xa3", 10, -EINVAL, 0 }, /* ARABIC-INDIC DIGIT THREE: a digit, not ours */
	{ "11", 10, -ERANGE, 0 },
	{ "4294967296", UINT_MAX, -ERANGE, 0 },                  /* UINT_MAX + 1 */
	{ "18446744073709551616", UINT_MAX, -ERANGE, 0 },        /* wraps a uint64_t */
	{ "99999999999999999999999999999999", UINT_MAX, -ERANGE, 0 },
	{ "99999999999x", UINT_MAX, -EINVAL, 0 }, /* not a number before too large */
};

Test(parse_uint, takes_only_whole_digit_strings_within_max)
{
	for (size_t i = 0; i < sizeof(number_cases) / sizeof(number_cases[0]); i++) {
		const struct number_case *c = &number_cases[i];
		unsigned v = UNTOUCHED;
		int r = parse_uint(c->s, c->max, &v);

		cr_expect_eq(r, c->want, "\"%s\" (max %u): %d, expected %d", c->s ? c->s : "(null)",
			     c->max, r, c->want);
		cr_expect_eq(v, c->want == 0 ? c->value : UNTOUCHED,
			     "\"%s\": value %u", c->s ? c->s : "(null)", v);
	}
}

Test(parse_uint, prefix_ends_at_the_first_non_digit)
{
	const char *s = "4x64", *end = NULL;
	unsigned v = UNTOUCHED;

	cr_assert_eq(parse_uint_prefix(s, 256, &v, &end), 0);
	cr_expect_eq(v, 4);
	cr_expect_eq(end, s + 1);
	cr_assert_eq(parse_uint_prefix("1234", 10000, &v, &end), 0);
	cr_expect_eq(v, 1234);
	cr_expect_eq(*end, '\0');

	/* refusals leave both outputs alone */
	v = UNTOUCHED;
	end = NULL;
	cr_expect_eq(parse_uint_prefix("x64", 256, &v, &end), -EINVAL);
	cr_expect_eq(parse_uint_prefix(" 4x64", 256, &v, &end), -EINVAL);
	cr_expect_eq(parse_uint_prefix("-4x64", 256, &v, &end), -EINVAL);
	cr_expect_eq(parse_uint_prefix("257x1", 256, &v, &end), -ERANGE);
	cr_expect_eq(parse_uint_prefix(NULL, 256, &v, &end), -EINVAL);
	cr_expect_eq(v, UNTOUCHED);
	cr_expect_null(end);
}

struct spec_case {
	const char *spec;
	int want;
	unsigned pfs, vfs;
};

static const struct spec_case spec_cases[] = {
	{ "4x64", 0, 4, 64 },
	{ "1x1", 0, 1, 1 },
	{ "256x4096", 0, 256, 4096 }, /* exactly the 2^20 VFs a simulated host may have */
	{ "256x4097", -ERANGE, 0, 0 },
	{ "257x1", -ERANGE, 0, 0 },
	{ "1x65537", -ERANGE, 0, 0 },
	{ "0x4", -ERANGE, 0, 0 },
	{ "4x0", -ERANGE, 0, 0 },
	{ "", -EINVAL, 0, 0 },
	{ "4", -EINVAL, 0, 0 },
	{ "4x", -EINVAL, 0, 0 },
	{ "x4", -EINVAL, 0, 0 },
	{ "4X64", -EINVAL, 0, 0 },
	{ "4x64x", -EINVAL, 0, 0 },
	{ " 4x64", -EINVAL, 0, 0 },
	{ "4x 64", -EINVAL, 0, 0 }, /* strtoul skipped the space */
	{ "4x+64", -EINVAL, 0, 0 }, /* and took the sign */
	{ "4x-64", -EINVAL, 0, 0 },
};

Test(parse_uint, simulate_spec_is_two_plain_numbers)
{
	for (size_t i = 0; i < sizeof(spec_cases) / sizeof(spec_cases[0]); i++) {
		const struct spec_case *c = &spec_cases[i];
		unsigned pfs = UNTOUCHED, vfs = UNTOUCHED;
		int r = host_parse_simulate_spec(c->spec, &pfs, &vfs);

		cr_expect_eq(r, c->want, "\"%s\": %d, expected %d", c->spec, r, c->want);
		if (c->want == 0) {
			cr_expect_eq(pfs, c->pfs, "\"%s\": %u PFs", c->spec, pfs);
			cr_expect_eq(vfs, c->vfs, "\"%s\": %u VFs", c->spec, vfs);
		} else {
			cr_expect(pfs == UNTOUCHED && vfs == UNTOUCHED, "\"%s\": outputs written",
				  c->spec);
		}
	}
}

/* vfpoold took " 5" and "+5" for a number: a typo in a unit file started a daemon. Each is
 * a usage error now (exit 2, the option named). `timeout`: a daemon that accepts runs. */
Test(parse_uint, vfpoold_refuses_a_number_with_a_space_or_a_sign)
{
	static const char *const bad[][2] = {
		{ "--max-clients", " 5" },
		{ "--max-clients", "+5" },
		{ "--spin-us", "-0" },
		{ "--simulate", "1x 1" },
	};
	char dir[64];

	state_dir_make(dir, sizeof(dir));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *simulate = strcmp(bad[i][0], "--simulate") == 0 ? "" : "--simulate 1x1";
		char *out;
		int status = run_capture(&out,
					 "timeout 5 %s %s --run-dir %s --state-dir %s %s '%s' 2>&1",
					 test_build_path("vfpoold"), simulate, dir, dir, bad[i][0],
					 bad[i][1]);

		cr_expect_eq(status, 2, "%s '%s': exit %d: %s", bad[i][0], bad[i][1], status, out);
		cr_expect(strstr(out, bad[i][0]), "%s '%s': not named in: %s", bad[i][0], bad[i][1],
			  out);
		free(out);
	}
	state_dir_remove(dir);
}

/* The control commands took " 7" for a VLAN (strtoul skips white space); now a refusal with
 * the value named, and nothing defined. */
Test(parse_uint, control_command_number_with_white_space_is_refused)
{
	static const char *const bad[][2] = {
		{ "--vlan", " 7" },
		{ "--vlan", "\t7" },
		{ "--mtu", "1500 " },
	};
	struct test_daemon d;
	struct vfpool *h;
	char *out = NULL;

	test_daemon_start(&d, "1x4", NULL);
	h = connect_ok(&d);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *argv[] = { "network", "add", "red", bad[i][0], bad[i][1] };
		int r = vfpool_command(h, 5, argv, &out);

		cr_expect_eq(r, -ERANGE, "%s '%s': %d (%s)", bad[i][0], bad[i][1], r,
			     out ? out : "");
		free(out);
		out = NULL;
	}
	cr_assert_eq(vfpool_command(h, 2, (const char *const[]){ "network", "list" }, &out), 0);
	cr_expect(!out || !strstr(out, "red"), "a refused network was defined: %s", out);
	free(out);
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* numvfs_store's file is read with parse_uint: what numvfs_store_save writes comes back,
 * and a NUL among the bytes (which ends a C string early) is no number. */
Test(parse_uint, numvfs_state_file_holds_one_plain_number)
{
	static const struct {
		const char *bytes;
		size_t len;
		int want;
		unsigned n;
	} files[] = {
		{ "0\n", 2, 0, 0 },
		{ "12", 2, 0, 12 },
		{ "65535\n", 6, 0, 65535 },
		{ "65536\n", 6, -EBADMSG, 0 },
		{ "4\0", 2, -EBADMSG, 0 },
		{ "4\0\n", 3, -EBADMSG, 0 },
		{ "4\n\0", 3, -EBADMSG, 0 },
		{ "\0", 1, -EBADMSG, 0 },
		{ "0\n\n", 3, -EBADMSG, 0 },
		{ "00\n", 3, -EBADMSG, 0 },
	};
	char dir[64], path[160];

	state_dir_make(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/virtual_functions", dir);
	cr_assert_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/virtual_functions/0000:3b:00.0", dir);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		unsigned n = UNTOUCHED;
		int r;

		cr_assert(fd >= 0);
		cr_assert_eq(write(fd, files[i].bytes, files[i].len), (ssize_t)files[i].len);
		close(fd);
		r = numvfs_store_load(dir, "0000:3b:00.0", &n, NULL, 0);
		cr_expect_eq(r, files[i].want, "file %zu: %d, expected %d", i, r, files[i].want);
		cr_expect_eq(n, files[i].want ? UNTOUCHED : files[i].n, "file %zu: n = %u", i, n);
	}
	state_dir_remove(dir);
}
