/* SPDX-License-Identifier: MIT */
/*
 * The systemd units as `make install` installs them: the paths filled in for the prefix
 * (systemd-analyze verify finds the binaries and the man page it names), the hardening
 * score held at or below 4.5, and the groups and modes the units, sysusers.d and
 * tmpfiles.d files give agreeing with each other. Needs systemd-analyze (systemd 250 or
 * later for --offline); skips saying so when it cannot run.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/run_cmd.h"

static const char *const units[] = { "vfpoold.service", "vfpool-restore-numvfs.service" };

/* make install PREFIX=<a temp dir>: the installed files name real paths on this host (a
 * DESTDIR install names /usr/sbin, which verify would look for in the real root). The
 * loader's cache is left alone (LDCONFIG=:). */
static void install_prefix(char *prefix, size_t len)
{
	const char *build = getenv("VFPOOL_BUILD"), *san = "";
	char *out;

	cr_assert(build, "VFPOOL_BUILD is not set: run the tests through tests/run.sh");
	if (strncmp(build, "build/", 6) == 0)
		san = build + 6;
	snprintf(prefix, len, "/tmp/vfpool-units.XXXXXX");
	cr_assert(mkdtemp(prefix), "mkdtemp: %s", strerror(errno));
	cr_assert_eq(run_capture(&out, "unset MAKEFLAGS MFLAGS MAKELEVEL; make -s install "
				 "SAN='%s' PREFIX=%s LDCONFIG=: >/dev/null 2>&1", san, prefix),
		     0, "make install PREFIX=%s failed", prefix);
	free(out);
}

static void remove_prefix(const char *prefix)
{
	char *out;

	cr_assert_eq(run_capture(&out, "rm -rf %s", prefix), 0);
	free(out);
}

/* An @NAME@ placeholder that install should have filled in, or NULL. */
static const char *placeholder(const char *text)
{
	for (const char *p = strchr(text, '@'); p; p = strchr(p + 1, '@')) {
		size_t n = strspn(p + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_");

		if (n && p[1 + n] == '@')
			return p;
	}
	return NULL;
}

static void need_systemd_analyze(void)
{
	char *out;
	int r = run_capture(&out, "systemd-analyze --version 2>/dev/null | head -n1");

	free(out);
	if (r != 0)
		cr_skip_test("systemd-analyze is not installed (Debian: systemd): the units "
			     "are not verified");
}

Test(units, installed_units_name_the_installed_paths_and_verify)
{
	char prefix[64], *out;

	need_systemd_analyze();
	install_prefix(prefix, sizeof(prefix));
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		char path[160];

		snprintf(path, sizeof(path), "%s/lib/systemd/system/%s", prefix, units[i]);
		char *text = read_whole_file(path);

		cr_assert_null(placeholder(text), "%s: a placeholder left unfilled:\n%s", path,
			       text);
		cr_assert_eq(count_substr(text, "\nExecStart="), 1u, "%s", text);
		{
			char want[128];

			snprintf(want, sizeof(want), "\nExecStart=%s/sbin/vfpoold ", prefix);
			cr_assert(strstr(text, want), "%s: ExecStart is not %s/sbin/vfpoold:\n%s",
				  path, prefix, text);
		}
		free(text);
	}
	/* the binaries exist where the units say, the man page they cite is installed */
	cr_assert_eq(run_capture(&out, "cd / && MANPATH=%s/share/man systemd-analyze verify "
				 "--man=yes %s/lib/systemd/system/*.service 2>&1", prefix, prefix),
		     0, "systemd-analyze verify on the installed units:\n%s", out);
	free(out);
	remove_prefix(prefix);
}

/* "→ Overall exposure level for vfpoold.service: 2.1 OK", in tenths */
static int exposure_tenths(const char *out)
{
	const char *p = strstr(out, "Overall exposure level for ");
	unsigned whole, tenth;

	if (!p || !(p = strchr(p, ':')) || sscanf(p + 1, " %u.%u", &whole, &tenth) != 2)
		return -1;
	return (int)(whole * 10 + tenth);
}

Test(units, hardening_exposure_is_at_most_4_5)
{
	char prefix[64], *out;

	need_systemd_analyze();
	if (run_capture(&out, "systemd-analyze security --help 2>&1 | grep -q -- --offline") != 0) {
		free(out);
		cr_skip_test("this systemd-analyze has no security --offline (systemd 250 or "
			     "later): the units' hardening is not rated");
	}
	free(out);
	install_prefix(prefix, sizeof(prefix));
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		int tenths;

		run_capture(&out, "cd %s/lib/systemd/system && systemd-analyze security "
			    "--offline=true --no-pager ./%s 2>&1", prefix, units[i]);
		tenths = exposure_tenths(out);
		cr_assert(tenths >= 0, "%s: no exposure level in:\n%s", units[i], out);
		cr_assert(tenths <= 45, "%s: exposure %d.%d, above 4.5:\n%s", units[i], tenths / 10,
			  tenths % 10, out);
		free(out);
	}
	remove_prefix(prefix);
}

/* The value of "Key=" in a unit (the first), "" when absent. */
static void unit_value(const char *text, const char *key, char *buf, size_t len)
{
	char needle[64];
	const char *p;

	snprintf(needle, sizeof(needle), "\n%s=", key);
	p = strstr(text, needle);
	buf[0] = '\0';
	if (p)
		snprintf(buf, len, "%.*s", (int)strcspn(p + strlen(needle), "\n"),
			 p + strlen(needle));
}

/* The tmpfiles.d line for path: its mode and group. */
static void tmpfiles_entry(const char *text, const char *path, char *mode, char *group)
{
	char line_path[128], user[32];

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		char type[8];

		if (sscanf(p, "%7s %127s %15s %31s %31s", type, line_path, mode, user, group) == 5 &&
		    type[0] != '#' && strcmp(line_path, path) == 0)
			return;
	}
	cr_assert_fail("tmpfiles.d/vfpool.conf has no line for %s:\n%s", path, text);
}

/* The daemon is told the groups sysusers.d creates; the directories systemd makes for the
 * unit have the mode and group tmpfiles.d gives them at boot (whichever runs first, the
 * daemon finds the same directory). */
Test(units, groups_are_wired_and_directory_modes_agree_with_tmpfiles)
{
	char *unit = read_whole_file("dist/systemd/vfpoold.service");
	char *restore = read_whole_file("dist/systemd/vfpool-restore-numvfs.service");
	char *sysusers = read_whole_file("dist/sysusers.d/vfpool.conf");
	char *tmpfiles = read_whole_file("dist/tmpfiles.d/vfpool.conf");
	char v[128], mode[16], group[32];

	cr_assert(strstr(unit, "--socket-group vfpool --admin-group vfpool-admin"), "%s", unit);
	cr_assert(strstr(sysusers, "\ng vfpool ") && strstr(sysusers, "\ng vfpool-admin "),
		  "sysusers.d does not create both groups:\n%s", sysusers);
	tmpfiles_entry(tmpfiles, "/run/vfpool", mode, group);
	unit_value(unit, "RuntimeDirectoryMode", v, sizeof(v));
	cr_assert_str_eq(v, mode, "RuntimeDirectoryMode=%s, tmpfiles.d says %s", v, mode);
	unit_value(unit, "Group", v, sizeof(v));
	cr_assert_str_eq(v, group, "Group=%s, tmpfiles.d gives /run/vfpool to %s", v, group);
	tmpfiles_entry(tmpfiles, "/var/lib/vfpool", mode, group);
	unit_value(unit, "StateDirectoryMode", v, sizeof(v));
	cr_assert_str_eq(v, mode, "StateDirectoryMode=%s, tmpfiles.d says %s", v, mode);
	unit_value(restore, "StateDirectoryMode", v, sizeof(v));
	cr_assert_str_eq(v, mode, "restore unit: StateDirectoryMode=%s, tmpfiles.d says %s", v,
			 mode);
	unit_value(restore, "Group", v, sizeof(v));
	cr_assert_str_eq(v, group, "restore unit: Group=%s, tmpfiles.d says %s", v, group);
	unit_value(unit, "Type", v, sizeof(v));
	cr_assert_str_eq(v, "notify", "vfpoold.service: Type=%s", v);
	free(unit);
	free(restore);
	free(sysusers);
	free(tmpfiles);
}
