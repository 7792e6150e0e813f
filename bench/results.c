/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "bench/results.h"
#include "bench/scenario.h"

#define MAX_RESULTS 64
#define MAX_ONLY    32

/* One round's results, in emission order. Every round runs the same scenarios, so the
 * i-th name of one round is usually the i-th of another; lookups go by name anyway. */
struct round {
	struct bench_result r[MAX_RESULTS];
	size_t n;
};

static struct round rounds[BENCH_MAX_ROUNDS];
static size_t n_rounds = 1, cur_round;
/* the run's summary: per name, the median over the rounds (results_summarize) */
static struct bench_result summary[MAX_RESULTS];
static size_t n_summary;
static char *only[MAX_ONLY];
static size_t n_only;
static bool failed;

void bench_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vfpool-bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	failed = true;
}

bool bench_failed(void)
{
	return failed;
}

int bench_only_add(const char *name)
{
	if (n_only == MAX_ONLY)
		return -E2BIG;
	only[n_only] = strdup(name);
	if (!only[n_only])
		return -ENOMEM;
	n_only++;
	return 0;
}

bool bench_wanted(const char *name)
{
	if (n_only == 0)
		return true;
	for (size_t i = 0; i < n_only; i++)
		if (strcmp(only[i], name) == 0)
			return true;
	return false;
}

bool bench_probe_wanted(void)
{
	return n_only == 0 || bench_wanted("probe");
}

void bench_rounds_begin(size_t n)
{
	n_rounds = n < 1 ? 1 : n > BENCH_MAX_ROUNDS ? BENCH_MAX_ROUNDS : n;
	cur_round = 0;
}

void bench_round_set(size_t i)
{
	cur_round = i < n_rounds ? i : n_rounds - 1;
}

size_t bench_round(void)
{
	return cur_round;
}

size_t bench_round_count(void)
{
	return n_rounds;
}

void bench_emit(const struct bench_result *r)
{
	struct round *rd = &rounds[cur_round];
	struct bench_result *dst;

	if (!bench_wanted(r->name) &&
	    !(bench_probe_wanted() && strncmp(r->name, "probe", 5) == 0))
		return;
	if (rd->n == MAX_RESULTS) {
		fprintf(stderr, "vfpool-bench: too many results, dropping %s\n", r->name);
		return;
	}
	dst = &rd->r[rd->n++];
	*dst = *r;
	/* own copies: scenarios build names and notes in stack buffers */
	dst->name = strdup(r->name);
	dst->note = r->note ? strdup(r->note) : NULL;
	fprintf(stderr, "  %-22s p50 %10.0f ns  %12.0f ops/s\n", r->name, r->p50_ns,
		r->ops_per_s);
}

const struct bench_result *bench_result_in_round(size_t round, const char *name)
{
	if (round >= n_rounds)
		return NULL;
	for (size_t i = 0; i < rounds[round].n; i++)
		if (strcmp(rounds[round].r[i].name, name) == 0)
			return &rounds[round].r[i];
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_median(double *v, size_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The median of one field over the rounds that have the result. */
static double field_median(const char *name, size_t off)
{
	double v[BENCH_MAX_ROUNDS];
	size_t n = 0;

	for (size_t k = 0; k < n_rounds; k++) {
		const struct bench_result *r = bench_result_in_round(k, name);

		if (r)
			v[n++] = *(const double *)((const char *)r + off);
	}
	return bench_median(v, n);
}

/* Per name, in first-emission order: each figure the median of its rounds. The note is
 * the first round's. */
static void summarize(void)
{
	n_summary = 0;
	for (size_t k = 0; k < n_rounds; k++) {
		for (size_t i = 0; i < rounds[k].n; i++) {
			const struct bench_result *r = &rounds[k].r[i];
			struct bench_result *s;
			bool seen = false;

			for (size_t j = 0; j < n_summary && !seen; j++)
				seen = strcmp(summary[j].name, r->name) == 0;
			if (seen || n_summary == MAX_RESULTS)
				continue;
			s = &summary[n_summary++];
			*s = *r;
			s->p50_ns = field_median(r->name, offsetof(struct bench_result, p50_ns));
			s->p99_ns = field_median(r->name, offsetof(struct bench_result, p99_ns));
			s->p999_ns = field_median(r->name, offsetof(struct bench_result, p999_ns));
			s->ops_per_s = field_median(r->name,
						    offsetof(struct bench_result, ops_per_s));
			s->count = field_median(r->name, offsetof(struct bench_result, count));
		}
	}
}

size_t bench_result_count(void)
{
	summarize();
	return n_summary;
}

const struct bench_result *bench_result_at(size_t i)
{
	if (i == 0)
		summarize();
	return i < n_summary ? &summary[i] : NULL;
}

const struct bench_result *bench_result_find(const char *name)
{
	summarize();
	for (size_t i = 0; i < n_summary; i++)
		if (strcmp(summary[i].name, name) == 0)
			return &summary[i];
	return NULL;
}

void bench_results_free(void)
{
	for (size_t k = 0; k < BENCH_MAX_ROUNDS; k++) {
		for (size_t i = 0; i < rounds[k].n; i++) {
			free((char *)rounds[k].r[i].name);
			free((char *)rounds[k].r[i].note);
		}
		rounds[k].n = 0;
	}
	n_summary = 0;
	for (size_t i = 0; i < n_only; i++)
		free(only[i]);
	n_only = 0;
}
