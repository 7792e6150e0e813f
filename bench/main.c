/* SPDX-License-Identifier: MIT */
/*
 * vfpool-bench: runs the scenarios and prints what they recorded (bench/results.c).
 *
 *   vfpool-bench [--json] [--quick] [--reps N] [--only NAME[,NAME...]]
 *
 * Every scenario reports p50/p99/p99.9 latency and throughput through bench_emit. The
 * whole set runs --reps times (default 5), interleaved: round 0 runs every scenario, then
 * round 1, and so on; each figure printed is the median of the rounds, and each target's
 * ratio is computed per round and judged on the median (min and max shown). The table
 * (default) adds ratio columns against the baselines measured in the same run and a line
 * per performance target; --json prints one JSON document instead.
 */
#include <errno.h>
#include <stddef.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "bench/report.h"
#include "bench/results.h"
#include "bench/scenario.h"

struct scenario {
	const char *names; /* comma-separated result names it emits; --only picks by these */
	void (*run)(const struct bench_opts *o);
};

static const struct scenario scenarios[] = {
	{ "pingpong", bench_pingpong },
	{ "unix_socket,unix_socket_1cpu", bench_unix_socket },
	{ "mutex_inproc", bench_mutex_inproc },
	{ "scale_64,scale_1024,scale_16384,scale_65536", bench_scale },
	{ "sqlite_claim", bench_sqlite_claim },
	{ "rtt_poll,rtt_poll_idle255,batch64,batch64_2clients,rtt_sleep,rtt_sleep_2clients,"
	  "rtt_sleep_1cpu", bench_rtt },
	{ "snapshot_read,plain_copy", bench_snapshot },
	{ "grpc_unary,k8s_allocate,k8s_health_push", bench_k8s },
};

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

	if (strcmp(name, "probe") == 0 || strcmp(name, "memory") == 0)
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
		r = bench_only_add(t);
		if (r)
			break;
	}
	free(copy);
	return r;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: vfpool-bench [--json] [--quick] [--reps N] [--only NAME[,NAME...]]\n"
		   "  --json   one JSON document on stdout instead of the table\n"
		   "  --quick  the same set, about a tenth of the work (a few seconds)\n"
		   "  --reps   rounds of the whole set, interleaved (default 5, at most 16):\n"
		   "           every figure is the median of the rounds\n"
		   "  --only   just these results (\"probe\" selects the probe's)\n"
		   "names:");
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		fprintf(f, " %s", scenarios[i].names);
	fprintf(f, ",probe,memory\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "quick", no_argument, NULL, 'q' },
		{ "only", required_argument, NULL, 'o' },
		{ "reps", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct bench_opts opts = { 0 };
	bool json = false;
	long reps = BENCH_DEFAULT_ROUNDS;
	char *end;
	int c, cores;

	/* the daemon is our child; a write to its closed socket must fail, not kill us */
	signal(SIGPIPE, SIG_IGN);
	/* before any thread pins itself: the CPU set we were started with */
	cores = bench_cpu_count();
	while ((c = getopt_long(argc, argv, "jqo:r:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'q': opts.quick = true; break;
		case 'r':
			errno = 0;
			reps = strtol(optarg, &end, 10);
			if (errno || *end || reps < 1 || reps > BENCH_MAX_ROUNDS) {
				fprintf(stderr, "vfpool-bench: --reps %s: expected 1..%d\n", optarg,
					BENCH_MAX_ROUNDS);
				bench_results_free();
				return 2;
			}
			break;
		case 'o':
			if (parse_only(optarg) != 0) {
				bench_results_free();
				return 2;
			}
			break;
		case 'h': usage(stdout); bench_results_free(); return 0;
		default: usage(stderr); bench_results_free(); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		bench_results_free();
		return 2;
	}
	fprintf(stderr, "vfpool-bench: %d CPUs seen%s, %ld rounds\n", cores,
		opts.quick ? ", quick" : "", reps);
	bench_rounds_begin((size_t)reps);
	for (long k = 0; k < reps; k++) {
		bench_round_set((size_t)k);
		for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
			if (!scenario_wanted(&scenarios[i]))
				continue;
			fprintf(stderr, "[round %ld: %s]\n", k + 1, scenarios[i].names);
			scenarios[i].run(&opts);
		}
		if (bench_probe && bench_probe_wanted()) {
			fprintf(stderr, "[round %ld: probe]\n", k + 1);
			bench_probe(opts.quick);
		}
	}
	/* a footprint, not a ratio: once */
	if (bench_wanted("memory")) {
		fprintf(stderr, "[memory]\n");
		bench_memory(&opts);
	}
	if (json) {
		bench_print_json(cores);
	} else {
		bench_print_table(cores);
		bench_print_targets();
	}
	bench_results_free();
	return bench_failed() ? 1 : 0;
}
