/* SPDX-License-Identifier: MIT */
/* vfpoold's log: one key=value line per event, filtered by --log-level. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "tests/daemon_fixture.h"
#include "tests/run_cmd.h"
#include "vfpool/vfpool.h"

/* One served request proves the daemon is in its loop, past the "ready" line. */
static void serve_one(const struct test_daemon *d)
{
	struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req,
		.vm_id = "vm1", .vnic_id = "nic0", .network = "red", .numa_node = -1);
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	struct vfpool *h;

	cr_assert_eq(vfpool_connect(d->run_dir, NULL, &h), 0);
	cr_assert_eq(vfpool_alloc(h, &req, &l, NULL, 0), 0);
	vfpool_close(h);
}

static char *log_text(const struct test_daemon *d)
{
	char *out;

	cr_assert_eq(run_capture(&out, "cat %s", d->log_path), 0);
	return out;
}

/* "vfpoold: k=v k="quoted value" ...": every token after the prefix is key=value. */
static bool key_value_line(const char *line, char *ret_why, size_t why_len)
{
	const char *p = line;

	if (strncmp(p, "vfpoold: ", 9) != 0) {
		snprintf(ret_why, why_len, "no 'vfpoold: ' prefix");
		return false;
	}
	for (p += 9; *p;) {
		const char *k = p;

		while (isalnum((unsigned char)*p) || *p == '_')
			p++;
		if (p == k || *p != '=') {
			snprintf(ret_why, why_len, "not key=value at '%s'", k);
			return false;
		}
		p++;
		if (*p == '"') {
			p = strchr(p + 1, '"');
			if (!p) {
				snprintf(ret_why, why_len, "unterminated quote after '%.*s'", 20, k);
				return false;
			}
			p++;
		} else {
			while (*p && *p != ' ')
				p++;
		}
		if (*p == ' ')
			p++;
		else if (*p) {
			snprintf(ret_why, why_len, "junk after a value at '%s'", p);
			return false;
		}
	}
	return true;
}

Test(logging, log_level_warn_suppresses_the_info_ready_line)
{
	struct test_daemon d;
	char *text;

	test_daemon_start(&d, "1x4", "--log-level", "warn", NULL);
	serve_one(&d);
	text = log_text(&d);
	cr_assert_null(strstr(text, "event=ready"), "info line at warn level:\n%s", text);
	cr_assert_null(strstr(text, "level=info"), "info line at warn level:\n%s", text);
	free(text);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(logging, default_level_logs_ready_as_key_value_pairs)
{
	struct test_daemon d;
	char *text, *save = NULL, why[160];
	unsigned lines = 0;
	bool ready = false;

	test_daemon_start(&d, "1x4", NULL);
	serve_one(&d);
	text = log_text(&d);
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		cr_assert(key_value_line(l, why, sizeof(why)), "%s: '%s'", why, l);
		if (strstr(l, " event=ready ")) {
			ready = true;
			cr_assert(strstr(l, "level=info"), "'%s'", l);
			cr_assert(strstr(l, " pfs=1 "), "'%s'", l);
		}
		lines++;
	}
	cr_assert(ready, "no event=ready line in %u lines", lines);
	free(text);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(logging, unknown_log_level_is_a_usage_error)
{
	char *out;

	cr_assert_eq(run_capture(&out, "%s --simulate 1x1 --log-level loud 2>&1",
				 test_build_path("vfpoold")), 2);
	cr_assert(strstr(out, "--log-level loud"), "%s", out);
	free(out);
}

/* Runs log_event with stderr on a file; journal: claim that file is the journal stream. */
static char *log_to_file(bool journal)
{
	char path[] = "/tmp/vfpool-log.XXXXXX", env[64], *out;
	int fd = mkstemp(path), saved = dup(2);
	struct stat st;

	cr_assert_geq(fd, 0);
	cr_assert_eq(fstat(fd, &st), 0);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	if (journal)
		setenv("JOURNAL_STREAM", env, 1);
	else
		unsetenv("JOURNAL_STREAM");
	fflush(stderr);
	dup2(fd, 2);
	log_set_level(LOG_LVL_INFO);
	log_warn("disk_full", "path=%s", "/var/lib/vfpool");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	unsetenv("JOURNAL_STREAM");
	cr_assert_eq(run_capture(&out, "cat %s", path), 0);
	unlink(path);
	return out;
}

Test(logging, journal_stream_lines_carry_the_syslog_priority_prefix)
{
	char *out = log_to_file(true);

	cr_assert_str_eq(out, "<4>level=warn event=disk_full path=/var/lib/vfpool\n");
	free(out);
}

Test(logging, plain_stderr_lines_carry_the_vfpoold_prefix)
{
	char *out = log_to_file(false);

	cr_assert_str_eq(out, "vfpoold: level=warn event=disk_full path=/var/lib/vfpool\n");
	free(out);
}
