/* SPDX-License-Identifier: MIT */
/*
 * The performance targets (issue 18, and the earlier ones it keeps), checked against this
 * run's own baselines. Each ratio is computed per round (bench/results.h: the scenario set
 * runs several times, interleaved) and the target is judged on the median of the rounds;
 * min and max are printed with it, so one noisy round can neither make nor break a target.
 * Printed with the table for humans; nothing fails on them (timings are no test's business:
 * they depend on the machine, its load and its virtualization).
 */
#include <stdio.h>

#include "bench/bench.h"
#include "bench/report.h"
#include "bench/results.h"

enum metric { P50, P99, OPS, COUNT };

/* A target: want(name, metric) compared with base(name, metric) times factor.
 * lower_is_better: want <= factor * base; otherwise want >= factor * base. */
struct target {
	const char *what;
	const char *want_name;
	const char *base_name; /* NULL: compare with factor alone */
	enum metric metric;
	double factor;
	bool lower_is_better;
};

static const struct target targets[] = {
	{ "rtt_poll p50 <= 3x pingpong p50", "rtt_poll", "pingpong", P50, 3, true },
	{ "batch64 ops/s >= 0.2x mutex_inproc", "batch64", "mutex_inproc", OPS, 0.2, false },
	{ "batch64 ops/s >= 100x sqlite_claim", "batch64", "sqlite_claim", OPS, 100, false },
	{ "rtt_poll_idle255 p50 <= 1.5x rtt_poll p50", "rtt_poll_idle255", "rtt_poll", P50, 1.5,
	  true },
	{ "batch64_2clients ops/s >= 1.3x batch64", "batch64_2clients", "batch64", OPS, 1.3,
	  false },
	{ "rtt_sleep_1cpu p50 <= 0.5x unix_socket_1cpu", "rtt_sleep_1cpu", "unix_socket_1cpu",
	  P50, 0.5, true },
	{ "unix_socket p99 >= 3x rtt_sleep p99", "rtt_sleep", "unix_socket", P99, 1.0 / 3,
	  true },
	{ "scale_65536 p50 <= 1.5x scale_64", "scale_65536", "scale_64", P50, 1.5, true },
	{ "snapshot_read p50 <= 1.2x plain_copy", "snapshot_read", "plain_copy", P50, 1.2, true },
	{ "probe event-to-state p99 <= 1 ms", "probe_latency_bpf", NULL, P99, 1e6, true },
	{ "BPF storm wakeups >= 10x fewer than fallback", "probe_storm_bpf",
	  "probe_storm_fallback", COUNT, 0.1, true },
	{ "k8s: Allocate p50 <= 1.5x bare gRPC unary p50", "k8s_allocate", "grpc_unary", P50, 1.5,
	  true },
	{ "k8s: health change pushed, p99 <= 100 ms", "k8s_health_push", NULL, P99, 100e6, true },
};

static double value(const struct bench_result *r, enum metric m)
{
	switch (m) {
	case P50: return r->p50_ns;
	case P99: return r->p99_ns;
	case OPS: return r->ops_per_s;
	case COUNT: return r->count;
	}
	return 0;
}

/* The figure a target is stated in, for one round: want/base the way the target reads
 * (base/want for "N x lower" and "N x fewer" targets), or want alone. <= 0: not measured
 * in that round. */
static double round_figure(const struct target *t, size_t k, bool *ret_inverted)
{
	const struct bench_result *w = bench_result_in_round(k, t->want_name);
	const struct bench_result *b = t->base_name ? bench_result_in_round(k, t->base_name)
						    : NULL;
	double got, base;

	*ret_inverted = t->lower_is_better && t->factor < 1;
	if (!w || (t->base_name && !b))
		return -1;
	got = value(w, t->metric);
	if (!b)
		return got;
	base = value(b, t->metric);
	if (*ret_inverted)
		return got > 0 && base > 0 ? base / got : base > 0 && got == 0 ? 1e9 : -1;
	return got > 0 && base > 0 ? got / base : -1;
}

static void print_figure(const struct target *t, double v)
{
	if (!t->base_name)
		printf("%.3g", v);
	else
		printf("%.2fx", v);
}

void bench_print_targets(void)
{
	size_t rounds = bench_round_count();

	printf("\ntargets (each figure: the median of %zu interleaved rounds [min, max]):\n",
	       rounds);
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		const struct target *t = &targets[i];
		double v[BENCH_MAX_ROUNDS], lo = 0, hi = 0, med, limit;
		bool inverted = false, met;
		size_t n = 0;

		for (size_t k = 0; k < rounds; k++) {
			double f = round_figure(t, k, &inverted);

			if (f <= 0 && !(f == 0 && !t->base_name))
				continue;
			if (n == 0 || f < lo)
				lo = f;
			if (n == 0 || f > hi)
				hi = f;
			v[n++] = f;
		}
		if (n == 0) {
			printf("  %-48s n/a (not measured)\n", t->what);
			continue;
		}
		med = bench_median(v, n);
		if (!t->base_name)
			met = t->lower_is_better ? med <= t->factor : med >= t->factor;
		else if (inverted)
			met = med >= 1 / t->factor;
		else
			met = t->lower_is_better ? med <= t->factor : med >= t->factor;
		limit = inverted ? 1 / t->factor : t->factor;
		printf("  %-48s %-7s ", t->what, met ? "met" : "MISSED");
		print_figure(t, med);
		printf(" [");
		print_figure(t, lo);
		printf(", ");
		print_figure(t, hi);
		printf("]%s (%s %.3g%s, %zu round%s)\n", inverted ? " lower/fewer" : "",
		       t->lower_is_better && !inverted ? "limit" : "need", limit,
		       t->base_name ? "x" : "", n, n == 1 ? "" : "s");
	}
}
