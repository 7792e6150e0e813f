/* SPDX-License-Identifier: MIT */
/* Placeholder until the daemon and libvfpool land on main. */
#include "bench/bench.h"
#include "bench/scenario.h"

void bench_rtt(const struct bench_opts *o)
{
	(void)o;
	bench_error("rtt_*, batch64: need vfpoold and libvfpool (not merged yet)");
}
