/* SPDX-License-Identifier: MIT */
/*
 * vfpool-bench: runs the scenarios, records their results, prints them.
 *
 *   vfpool-bench [--json] [--quick] [--only NAME[,NAME...]]
 *
 * Every scenario reports p50/p99/p99.9 latency and throughput through bench_emit. The
 * table (default) adds ratio columns against the baselines measured in the same run and a
 * line per performance target; --json prints one JSON document instead.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "bench/scenario.h"

#define MAX_RESULTS 64
#define MAX_ONLY    32

struct scenario {
	const char *names; /* comma-separated result names it emits; --only picks by these */
	void (*run)(const struct bench_opts *o);
};

static const struct scenario scenarios[] = {
	{ "pingpong", bench_pingpong },
	{ "unix_socket,unix_socket_1cpu", bench_unix_socket },
	{ "mutex_inproc", bench_mutex_inproc },
	{ "scale_64,scale_1024,scale_16384,scale_65536", bench_scale },
	{ "rtt_poll,batch64,rtt_sleep,rtt_sleep_2clients,rtt_sleep_1cpu", bench_rtt },
	{ "snapshot_read,plain_copy", bench_snapshot },
	{ "grpc_unary,k8s_allocate,k8s_health_push", bench_k8s },
};

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

bool bench_wanted(const char *name)
{
	if (n_only == 0)
		return true;
	for (size_t i = 0; i < n_only; i++)
		if (strcmp(only[i], name) == 0)
			return true;
	return false;
}

/* Probe results are named by the probe's author; "probe" in --only selects them all. */
static bool probe_wanted(void)
{
	return n_only == 0 || bench_wanted("probe");
}

void bench_emit(const struct bench_result *r)
{
	struct bench_result *dst;

	if (!bench_wanted(r->name) && !(probe_wanted() && strncmp(r->name, "probe", 5) == 0))
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

static bool scenario_wanted(const struct scenario *s)
{
	char buf[256];
	char *save = NULL;

	snprintf(buf, sizeof(buf), "%s", s->names);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (bench_wanted(tok))
			return true;
	return false;
}

static bool known_name(const char *name)
{
	char buf[256];
	char *save = NULL;

	if (strcmp(name, "probe") == 0)
		return true;
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", scenarios[i].names);
		for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
			if (strcmp(t, name) == 0)
				return true;
	}
	return false;
}

static int parse_only(const char *arg)
{
	char *copy = strdup(arg);
	char *save = NULL;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!known_name(t)) {
			fprintf(stderr, "vfpool-bench: unknown result name '%s'\n", t);
			r = -EINVAL;
			break;
		}
		if (n_only == MAX_ONLY) {
			r = -E2BIG;
			break;
		}
		only[n_only++] = strdup(t);
	}
	free(copy);
	return r;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: vfpool-bench [--json] [--quick] [--only NAME[,NAME...]]\n"
		   "  --json   one JSON document on stdout instead of the table\n"
		   "  --quick  the same set, about a tenth of the work (a few seconds)\n"
		   "  --only   just these results (\"probe\" selects the probe's)\n"
		   "names:");
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		fprintf(f, " %s", scenarios[i].names);
	fprintf(f, ",probe\n");
}

static void free_all(void)
{
	for (size_t i = 0; i < n_results; i++) {
		free((char *)results[i].name);
		free((char *)results[i].note);
	}
	for (size_t i = 0; i < n_only; i++)
		free(only[i]);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "quick", no_argument, NULL, 'q' },
		{ "only", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct bench_opts opts = { 0 };
	bool json = false;
	int c, cores;

	/* the daemon is our child; a write to its closed socket must fail, not kill us */
	signal(SIGPIPE, SIG_IGN);
	/* before any thread pins itself: the CPU set we were started with */
	cores = bench_cpu_count();
	while ((c = getopt_long(argc, argv, "jqo:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'q': opts.quick = true; break;
		case 'o':
			if (parse_only(optarg) != 0) {
				free_all();
				return 2;
			}
			break;
		case 'h': usage(stdout); free_all(); return 0;
		default: usage(stderr); free_all(); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		free_all();
		return 2;
	}
	fprintf(stderr, "vfpool-bench: %d CPUs seen%s\n", cores, opts.quick ? ", quick" : "");
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		if (!scenario_wanted(&scenarios[i]))
			continue;
		fprintf(stderr, "[%s]\n", scenarios[i].names);
		scenarios[i].run(&opts);
	}
	if (bench_probe && probe_wanted()) {
		fprintf(stderr, "[probe]\n");
		bench_probe(opts.quick);
	}
	if (json) {
		bench_print_json(cores);
	} else {
		bench_print_table(cores);
		bench_print_targets();
	}
	free_all();
	return failed ? 1 : 0;
}
