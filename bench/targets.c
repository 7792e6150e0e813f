/* SPDX-License-Identifier: MIT */
/*
 * The performance targets of issue 3, checked against this run's own baselines. Printed
 * with the table for humans; nothing fails on them (timings are no test's business: they
 * depend on the machine, its load and its virtualization).
 */
#include <stdio.h>

#include "bench/bench.h"
#include "bench/report.h"
#include "bench/results.h"

enum metric { P50, P99, OPS };

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
	{ "polling, 1 client: p50 <= 5x ping-pong RT", "rtt_poll", "pingpong", P50, 5, true },
	{ "polling, 1 client: p50 >= 25x lower than unix", "rtt_poll", "unix_socket", P50,
	  1.0 / 25, true },
	{ "sleeping: p50 >= 2x lower than unix", "rtt_sleep", "unix_socket", P50, 1.0 / 2, true },
	{ "sleeping: p99 >= 3x lower than unix", "rtt_sleep", "unix_socket", P99, 1.0 / 3, true },
	{ "batched: throughput >= 20x unix", "batch64", "unix_socket", OPS, 20, false },
	{ "batched: >= 2 M alloc+release/s", "batch64", NULL, OPS, 2e6, false },
	{ "65,536 VFs at 99% full: p50 <= 1.5x 64 VFs", "scale_65536", "scale_64", P50, 1.5, true },
	{ "snapshot read: p50 <= 1.2x plain copy", "snapshot_read", "plain_copy", P50, 1.2, true },
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
	}
	return 0;
}

void bench_print_targets(void)
{
	printf("\ntargets (this run):\n");
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		const struct target *t = &targets[i];
		const struct bench_result *w = bench_result_find(t->want_name);
		const struct bench_result *b = t->base_name ? bench_result_find(t->base_name) : NULL;
		double limit, got;
		bool met;

		if (!w || (t->base_name && !b)) {
			printf("  %-48s n/a (not measured)\n", t->what);
			continue;
		}
		got = value(w, t->metric);
		if (got <= 0 || (b && value(b, t->metric) <= 0)) {
			printf("  %-48s n/a (no samples)\n", t->what);
			continue;
		}
		limit = t->factor * (b ? value(b, t->metric) : 1);
		met = t->lower_is_better ? got <= limit : got >= limit;
		if (b) {
			/* state the ratio the way the target is phrased: "N x lower" or "N x" */
			bool lower = t->lower_is_better && t->factor < 1;
			double base = value(b, t->metric);

			printf("  %-48s %-7s (%.2fx%s %s)\n", t->what, met ? "met" : "MISSED",
			       lower ? base / got : got / base, lower ? " lower than" : " of",
			       t->base_name);
		} else {
			printf("  %-48s %-7s (%.3g)\n", t->what, met ? "met" : "MISSED", got);
		}
	}
}
