/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/log.h"

static enum log_level max_level = LOG_LVL_INFO;

void log_set_level(enum log_level level)
{
	max_level = level;
}

int log_parse_level(const char *name, enum log_level *ret_level)
{
	static const struct { const char *name; enum log_level level; } levels[] = {
		{ "err", LOG_LVL_ERR }, { "error", LOG_LVL_ERR }, { "warn", LOG_LVL_WARN },
		{ "warning", LOG_LVL_WARN }, { "info", LOG_LVL_INFO }, { "debug", LOG_LVL_DEBUG },
	};

	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		if (strcmp(name, levels[i].name) == 0) {
			*ret_level = levels[i].level;
			return 0;
		}
	}
	return -EINVAL;
}

static const char *level_name(enum log_level l)
{
	switch (l) {
	case LOG_LVL_ERR: return "err";
	case LOG_LVL_WARN: return "warn";
	case LOG_LVL_INFO: return "info";
	default: return "debug";
	}
}

/* Under systemd, stderr is a journal stream named by $JOURNAL_STREAM ("dev:ino"): a "<N>"
 * prefix then sets the entry's priority, so `journalctl -p warning` filters our levels.
 * Checked per line (an fstat; events are rare) as stderr may be redirected at any time. */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(2, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_event(enum log_level level, const char *event, const char *fmt, ...)
{
	char body[512];
	va_list ap;

	if (level > max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	/* one write per line, so lines from a restarted daemon never interleave mid-line */
	if (stderr_is_journal())
		fprintf(stderr, "<%d>level=%s event=%s%s%s\n", (int)level, level_name(level), event,
			body[0] ? " " : "", body);
	else
		fprintf(stderr, "vfpoold: level=%s event=%s%s%s\n", level_name(level), event,
			body[0] ? " " : "", body);
}
