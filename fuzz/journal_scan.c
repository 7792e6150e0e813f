/* SPDX-License-Identifier: MIT */
/* Any bytes as a lease journal: the reader stops, never trusts, never overruns. */
#include <stdint.h>
#include <string.h>

#include "core/journal_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct journal_live live;
	struct journal_scan_result res;

	journal_live_init(&live);
	journal_scan(data, size, journal_live_apply, &live, &res);
	if (res.good_bytes > size || (res.stop && !res.why))
		__builtin_trap();
	for (uint32_t i = 0; i < live.n; i++)
		if (!live.leases[i].generation || live.leases[i].slot >= JOURNAL_MAX_SLOT)
			__builtin_trap();
	journal_live_fini(&live);
	return 0;
}
