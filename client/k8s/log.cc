// SPDX-License-Identifier: MIT
#include "client/k8s/log.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/stat.h>

namespace vfk8s {

namespace {

Level max_level = Level::info;

const char *level_name(Level l)
{
	switch (l) {
	case Level::err: return "err";
	case Level::warn: return "warn";
	case Level::info: return "info";
	default: return "debug";
	}
}

/* Under systemd, stderr is a journal stream named by $JOURNAL_STREAM ("dev:ino"). */
bool stderr_is_journal()
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(2, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

} // namespace

void log_set_level(Level level)
{
	max_level = level;
}

bool log_parse_level(const char *name, Level *ret_level)
{
	static const struct {
		const char *name;
		Level level;
	} levels[] = {
		{ "err", Level::err },   { "error", Level::err }, { "warn", Level::warn },
		{ "warning", Level::warn }, { "info", Level::info }, { "debug", Level::debug },
	};

	for (const auto &l : levels) {
		if (strcmp(name, l.name) == 0) {
			*ret_level = l.level;
			return true;
		}
	}
	return false;
}

void log_event(Level level, const char *event, const char *fmt, ...)
{
	char body[768];
	va_list ap;

	if (level > max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	/* one write per line: lines of concurrent threads never interleave mid-line */
	if (stderr_is_journal())
		fprintf(stderr, "<%d>level=%s event=%s%s%s\n", (int)level, level_name(level), event,
			body[0] ? " " : "", body);
	else
		fprintf(stderr, "vfpool-k8s: level=%s event=%s%s%s\n", level_name(level), event,
			body[0] ? " " : "", body);
}

} // namespace vfk8s
