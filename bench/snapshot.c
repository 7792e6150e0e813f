/* SPDX-License-Identifier: MIT */
/* Placeholder until the daemon and libvfpool land on main. */
#include "bench/bench.h"
#include "bench/scenario.h"

void bench_snapshot(const struct bench_opts *o)
{
	(void)o;
	bench_error("snapshot_read, plain_copy: need vfpoold and libvfpool (not merged yet)");
}
