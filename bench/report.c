/* SPDX-License-Identifier: MIT */
/* The table and the JSON document. Ratios are computed here, from the baselines measured
 * in the same run, so they are never mixed across machines or runs. */
#include <math.h>
#include <stdio.h>

#include "bench/bench.h"
#include "bench/report.h"
#include "bench/results.h"

/* "812 ns", "12.4 us", "3.10 ms": three significant digits, the unit a human reads. */
static const char *fmt_ns(double ns, char *buf, size_t len)
{
	if (ns <= 0)
		snprintf(buf, len, "-");
	else if (ns < 1e3)
		snprintf(buf, len, "%.0f ns", ns);
	else if (ns < 1e6)
		snprintf(buf, len, "%.*f us", ns < 1e4 ? 2 : ns < 1e5 ? 1 : 0, ns / 1e3);
	else
		snprintf(buf, len, "%.*f ms", ns < 1e7 ? 2 : ns < 1e8 ? 1 : 0, ns / 1e6);
	return buf;
}

static const char *fmt_rate(double ops, char *buf, size_t len)
{
	if (ops <= 0)
		snprintf(buf, len, "-");
	else if (ops >= 1e6)
		snprintf(buf, len, "%.2f M", ops / 1e6);
	else if (ops >= 1e3)
		snprintf(buf, len, "%.1f k", ops / 1e3);
	else
		snprintf(buf, len, "%.0f", ops);
	return buf;
}

static const char *fmt_ratio(double num, double den, char *buf, size_t len)
{
	if (num <= 0 || den <= 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.*fx", num / den < 10 ? 2 : 1, num / den);
	return buf;
}

void bench_print_table(int cores)
{
	const struct bench_result *pp = bench_result_find("pingpong");
	const struct bench_result *ux = bench_result_find("unix_socket");
	char a[24], b[24], c[24], d[24], e[24], f[24];

	printf("vfpool-bench: %d CPUs seen\n", cores);
	printf("%-20s %10s %10s %10s %10s %9s %9s  %s\n", "name", "p50", "p99", "p99.9",
	       "ops/s", "p50/pp", "unix/p50", "note");
	for (size_t i = 0; i < bench_result_count(); i++) {
		const struct bench_result *r = bench_result_at(i);

		printf("%-20s %10s %10s %10s %10s %9s %9s  %s\n", r->name,
		       fmt_ns(r->p50_ns, a, sizeof(a)), fmt_ns(r->p99_ns, b, sizeof(b)),
		       fmt_ns(r->p999_ns, c, sizeof(c)), fmt_rate(r->ops_per_s, d, sizeof(d)),
		       fmt_ratio(r->p50_ns, pp ? pp->p50_ns : 0, e, sizeof(e)),
		       fmt_ratio(ux ? ux->p50_ns : 0, r->p50_ns, f, sizeof(f)),
		       r->note ? r->note : "");
	}
	printf("p50/pp: p50 over the ping-pong round trip's p50; unix/p50: the unix-socket "
	       "baseline's p50 over this p50 (how many times faster).\n");
}

static void json_string(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

/* JSON has no inf or nan: a failed division prints as 0 rather than break the document. */
static double finite_or_zero(double v)
{
	return isfinite(v) ? v : 0;
}

void bench_print_json(int cores)
{
	printf("{\"cores\": %d, \"results\": [", cores);
	for (size_t i = 0; i < bench_result_count(); i++) {
		const struct bench_result *r = bench_result_at(i);

		printf("%s\n  {\"name\": ", i ? "," : "");
		json_string(r->name);
		printf(", \"p50_ns\": %.1f, \"p99_ns\": %.1f, \"p999_ns\": %.1f, "
		       "\"ops_per_s\": %.1f, \"note\": ",
		       finite_or_zero(r->p50_ns), finite_or_zero(r->p99_ns),
		       finite_or_zero(r->p999_ns), finite_or_zero(r->ops_per_s));
		json_string(r->note ? r->note : "");
		putchar('}');
	}
	printf("\n]}\n");
}
