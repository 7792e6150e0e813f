/* SPDX-License-Identifier: MIT */
/*
 * vfpool-bench --json: the document has the promised shape (cores, and per result name,
 * p50_ns, p99_ns, p999_ns, ops_per_s as numbers). Runs the quick in-process scenarios
 * only. No timing is asserted: timings belong to the machine, not to the code.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <criterion/criterion.h>

#define MAX_OUTPUT (64 * 1024)

static char *run_bench_json(const char *only)
{
	const char *build = getenv("VFPOOL_BUILD");
	char cmd[512];
	char *out = calloc(1, MAX_OUTPUT);
	size_t len = 0, k;
	FILE *p;
	int status;

	cr_assert(out);
	snprintf(cmd, sizeof(cmd), "%s/vfpool-bench --quick --json --only %s 2>/dev/null",
		 build ? build : "build", only);
	p = popen(cmd, "r");
	cr_assert(p, "popen %s", cmd);
	while ((k = fread(out + len, 1, MAX_OUTPUT - 1 - len, p)) > 0)
		len += k;
	status = pclose(p);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s exited with %d", cmd,
		  status);
	return out;
}

/* ---- a strict little JSON syntax check (no library in the dependency set) ---------- */

static const char *skip_ws(const char *s)
{
	while (*s && isspace((unsigned char)*s))
		s++;
	return s;
}

static const char *parse_value(const char *s);

static const char *parse_string(const char *s)
{
	if (*s != '"')
		return NULL;
	for (s++; *s && *s != '"'; s++) {
		if ((unsigned char)*s < 0x20)
			return NULL;
		if (*s == '\\' && !*++s)
			return NULL;
	}
	return *s == '"' ? s + 1 : NULL;
}

static const char *parse_number(const char *s)
{
	char *end;

	/* JSON has no inf, nan or hex: a number starts with a digit or a minus */
	if (*s != '-' && !isdigit((unsigned char)*s))
		return NULL;
	strtod(s, &end);
	return end == s ? NULL : end;
}

static const char *parse_seq(const char *s, char close, bool keyed)
{
	s = skip_ws(s + 1);
	if (*s == close)
		return s + 1;
	for (;;) {
		if (keyed) {
			s = parse_string(skip_ws(s));
			if (!s || *(s = skip_ws(s)) != ':')
				return NULL;
			s++;
		}
		s = parse_value(s);
		if (!s)
			return NULL;
		s = skip_ws(s);
		if (*s == close)
			return s + 1;
		if (*s != ',')
			return NULL;
		s++;
	}
}

static const char *parse_value(const char *s)
{
	s = skip_ws(s);
	switch (*s) {
	case '{': return parse_seq(s, '}', true);
	case '[': return parse_seq(s, ']', false);
	case '"': return parse_string(s);
	case 't': return strncmp(s, "true", 4) ? NULL : s + 4;
	case 'f': return strncmp(s, "false", 5) ? NULL : s + 5;
	case 'n': return strncmp(s, "null", 4) ? NULL : s + 4;
	default: return parse_number(s);
	}
}

/* ---- the schema -------------------------------------------------------------------- */

/* The object for one result name: from its "name" to its closing brace. */
static char *result_object(const char *doc, const char *name)
{
	char key[64];
	const char *at, *end;

	snprintf(key, sizeof(key), "\"name\": \"%s\"", name);
	at = strstr(doc, key);
	if (!at)
		return NULL;
	end = strchr(at, '}');
	return end ? strndup(at, (size_t)(end - at)) : NULL;
}

static void expect_number(const char *obj, const char *field, const char *name)
{
	char key[32];
	const char *at;
	char *end;
	double v;

	snprintf(key, sizeof(key), "\"%s\": ", field);
	at = strstr(obj, key);
	cr_assert(at, "%s: no %s", name, field);
	v = strtod(at + strlen(key), &end);
	cr_assert(end != at + strlen(key), "%s: %s is not a number", name, field);
	cr_expect(v >= 0, "%s: %s is negative", name, field);
}

Test(bench_json, quick_run_has_the_schema, .timeout = 120)
{
	static const char *const names[] = { "pingpong", "mutex_inproc", "scale_64" };
	char *doc = run_bench_json("pingpong,mutex_inproc,scale_64");
	const char *end = parse_value(doc);
	int cores = 0;

	cr_assert(end, "not JSON:\n%s", doc);
	cr_assert_eq(*skip_ws(end), '\0', "trailing bytes after the document");
	cr_assert_eq(sscanf(doc, " {\"cores\": %d", &cores), 1, "no cores first:\n%s", doc);
	cr_expect_geq(cores, 1);
	cr_assert(strstr(doc, "\"results\": ["), "no results array");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *obj = result_object(doc, names[i]);

		cr_assert(obj, "no result named %s:\n%s", names[i], doc);
		expect_number(obj, "p50_ns", names[i]);
		expect_number(obj, "p99_ns", names[i]);
		expect_number(obj, "p999_ns", names[i]);
		expect_number(obj, "ops_per_s", names[i]);
		free(obj);
	}
	free(doc);
}

Test(bench_json, only_filters_results)
{
	char *doc = run_bench_json("mutex_inproc");

	cr_assert(strstr(doc, "\"name\": \"mutex_inproc\""));
	cr_expect_null(strstr(doc, "\"name\": \"pingpong\""), "--only let pingpong through");
	free(doc);
}
