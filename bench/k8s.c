/* SPDX-License-Identifier: MIT */
/*
 * The Kubernetes device plugin's cost: Allocate of one device through vfpool-k8s's gRPC
 * over its unix socket (k8s_allocate) next to a bare unary gRPC call to the same server
 * (grpc_unary), against a vfpoold --simulate 4x64 with its default spin; and how long a
 * health change takes to reach the kubelet's stream (k8s_health_push). The gRPC side is
 * C++: this scenario runs vfpool-bench-k8s (bench/k8s_helper.cc, next to this binary) and
 * reads its samples, one "<name> <ns>" line each.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/daemon.h"
#include "bench/scenario.h"

#define DAEMON_SPIN_US 50 /* vfpoold's default */

/* one scenario, three results: the helper's sample lines by name */
struct samples {
	uint64_t *v;
	size_t n, cap;
};

static int helper_path(char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t k = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (k < 0)
		return -errno;
	self[k] = '\0';
	if ((size_t)snprintf(buf, len, "%s/vfpool-bench-k8s", dirname(self)) >= len)
		return -ENAMETOOLONG;
	return access(buf, X_OK) == 0 ? 0 : -errno;
}

static void add(struct samples *s, uint64_t ns)
{
	if (s->n < s->cap)
		s->v[s->n++] = ns;
}

static double per_second(const uint64_t *v, size_t n)
{
	double sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += (double)v[i];
	return sum > 0 ? (double)n * 1e9 / sum : 0;
}

/* Runs the helper; fills the two sample sets. 0, or -1 after saying why. */
static int run_helper(const char *path, const char *run_dir, const struct bench_budget *bud,
		      struct samples *unary, struct samples *alloc, struct samples *push)
{
	char ops[32], cap[32], line[128], name[32];
	unsigned long long ns;
	int fds[2], status;
	pid_t pid;
	FILE *f;

	snprintf(ops, sizeof(ops), "%zu", bud->ops);
	snprintf(cap, sizeof(cap), "%llu", (unsigned long long)(bud->cap_ns / 1000000u));
	if (pipe(fds) < 0) {
		bench_error("k8s: pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		bench_error("k8s: fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execl(path, "vfpool-bench-k8s", "--run-dir", run_dir, "--ops", ops, "--cap-ms", cap,
		      (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	if (!f) {
		close(fds[0]);
		waitpid(pid, NULL, 0);
		bench_error("k8s: fdopen: %s", strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%31s %llu", name, &ns) != 2)
			continue;
		if (strcmp(name, "grpc_unary") == 0)
			add(unary, ns);
		else if (strcmp(name, "k8s_allocate") == 0)
			add(alloc, ns);
		else if (strcmp(name, "k8s_health_push") == 0)
			add(push, ns);
	}
	fclose(f);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		bench_error("k8s: %s failed (status %d; its reason above)", path, status);
		return -1;
	}
	return 0;
}

void bench_k8s(const struct bench_opts *o)
{
	struct bench_budget bud = bench_budget_for(o, 20000, 10.0);
	struct samples unary = { .cap = bud.ops }, alloc = { .cap = bud.ops };
	struct samples push = { .cap = 2 * (bud.ops / 100 < 20 ? 20 : bud.ops / 100) };
	struct bench_daemon d;
	char path[PATH_MAX];
	int r = helper_path(path, sizeof(path));

	if (r) {
		bench_error("k8s: no vfpool-bench-k8s next to this binary (%s): %s", path,
			    strerror(-r));
		return;
	}
	unary.v = calloc(bud.ops, sizeof(uint64_t));
	alloc.v = calloc(bud.ops, sizeof(uint64_t));
	push.v = calloc(push.cap, sizeof(uint64_t));
	if (!unary.v || !alloc.v || !push.v) {
		bench_error("k8s: out of memory");
		goto out;
	}
	if (bench_daemon_start(&d, "4x64", DAEMON_SPIN_US, -1) < 0)
		goto out;
	r = run_helper(path, d.run_dir, &bud, &unary, &alloc, &push);
	bench_daemon_stop(&d);
	if (r < 0)
		goto out;
	if (unary.n) {
		struct bench_result res = {
			.name = "grpc_unary",
			.ops_per_s = per_second(unary.v, unary.n),
			.note = "GetDevicePluginOptions on vfpool-k8s's unix socket: a constant "
				"answer, the floor of a call to that server; each after a "
				"pinned lease made and released (untimed), as k8s_allocate's",
		};

		bench_percentiles(unary.v, unary.n, &res);
		bench_emit(&res);
	}
	if (alloc.n) {
		struct bench_result res = {
			.name = "k8s_allocate",
			.ops_per_s = per_second(alloc.v, alloc.n),
			.note = "Allocate of 1 device via vfpool-k8s: a fresh pinned lease "
				"(released between ops, untimed) and its device-info file; "
				"the pool's VFs in turn; daemon --spin-us 50",
		};

		bench_percentiles(alloc.v, alloc.n, &res);
		bench_emit(&res);
	}
	if (push.n) {
		struct bench_result res = {
			.name = "k8s_health_push",
			.ops_per_s = per_second(push.v, push.n),
			.note = "a VF leased (released) by a launcher outside Kubernetes until "
				"vfpool-k8s's ListAndWatch says Unhealthy (Healthy): the state "
				"segment's sequence tested every 5 ms after a change, backing off "
				"to 40 ms; leases after 60 ms quiet, releases at once",
		};

		bench_percentiles(push.v, push.n, &res);
		bench_emit(&res);
	}
out:
	free(unary.v);
	free(alloc.v);
	free(push.v);
}
