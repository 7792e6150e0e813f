/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "bench/results.h"
#include "bench/scenario.h"

#define MAX_RESULTS 64
#define MAX_ONLY    32

static struct bench_result results[MAX_RESULTS];
static size_t n_results;
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

void bench_emit(const struct bench_result *r)
{
	struct bench_result *dst;

	if (!bench_wanted(r->name) &&
	    !(bench_probe_wanted() && strncmp(r->name, "probe", 5) == 0))
		return;
	if (n_results == MAX_RESULTS) {
		fprintf(stderr, "vfpool-bench: too many results, dropping %s\n", r->name);
		return;
	}
	dst = &results[n_results++];
	*dst = *r;
	/* own copies: scenarios build names and notes in stack buffers */
	dst->name = strdup(r->name);
	dst->note = r->note ? strdup(r->note) : NULL;
	fprintf(stderr, "  %-22s p50 %10.0f ns  %12.0f ops/s\n", r->name, r->p50_ns,
		r->ops_per_s);
}

size_t bench_result_count(void)
{
	return n_results;
}

const struct bench_result *bench_result_at(size_t i)
{
	return i < n_results ? &results[i] : NULL;
}

const struct bench_result *bench_result_find(const char *name)
{
	for (size_t i = 0; i < n_results; i++)
		if (strcmp(results[i].name, name) == 0)
			return &results[i];
	return NULL;
}

void bench_results_free(void)
{
	for (size_t i = 0; i < n_results; i++) {
		free((char *)results[i].name);
		free((char *)results[i].note);
	}
	n_results = 0;
	for (size_t i = 0; i < n_only; i++)
		free(only[i]);
	n_only = 0;
}
