/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "tests/run_cmd.h"

int run_capture(char **ret_out, const char *fmt, ...)
{
	char cmd[4096], *buf = NULL;
	size_t len = 0, cap = 0;
	va_list ap;
	FILE *p;
	int st;

	va_start(ap, fmt);
	cr_assert_lt(vsnprintf(cmd, sizeof(cmd), fmt, ap), (int)sizeof(cmd), "command too long");
	va_end(ap);
	p = popen(cmd, "r");
	cr_assert(p, "popen %s failed", cmd);
	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			cr_assert(buf);
		}
		size_t n = fread(buf + len, 1, cap - len - 1, p);

		if (n == 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	st = pclose(p);
	*ret_out = buf;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
}

unsigned count_substr(const char *hay, const char *needle)
{
	unsigned n = 0;
	size_t l = strlen(needle);

	for (const char *p = strstr(hay, needle); p; p = strstr(p + l, needle))
		n++;
	return n;
}

char *read_whole_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	cr_assert(f, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	cr_assert(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}
