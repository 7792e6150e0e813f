/* SPDX-License-Identifier: MIT */
/* vfpool-stress: the concurrency scenarios without Criterion, for ThreadSanitizer runs.
 * TSan reports make the process exit non-zero (TSAN_OPTIONS=halt_on_error=1). */
#include <stdio.h>
#include <string.h>

#include "tests/concurrency/scenarios.h"

int main(int argc, char **argv)
{
	unsigned pass = 0, fail = 0;

	for (size_t i = 0; i < sizeof(conc_scenarios) / sizeof(conc_scenarios[0]); i++) {
		char why[256] = "";

		if (argc > 1 && strcmp(argv[1], conc_scenarios[i].name) != 0)
			continue;
		if (conc_scenarios[i].run(why, sizeof(why)) == 0) {
			printf("[PASS] concurrency::%s%s%s\n", conc_scenarios[i].name,
			       why[0] ? ": " : "", why);
			pass++;
		} else {
			printf("[FAIL] concurrency::%s: %s\n", conc_scenarios[i].name, why);
			fail++;
		}
	}
	printf("stress: %u passed, %u failed\n", pass, fail);
	return fail ? 1 : 0;
}
