/* SPDX-License-Identifier: MIT */
/*
 * The reason that goes with an error: functions that can fail for more than one reason
 * take a buffer (why, len) and write there what went wrong, naming the object ("pf 3: no
 * such PF"); their caller logs it or sends it to the client once. why may be NULL or len 0:
 * the caller wants only the error.
 */
#ifndef VFPOOL_CORE_BASE_REASON_H
#define VFPOOL_CORE_BASE_REASON_H

#include <stddef.h>

/* Writes the reason into why (truncated to len - 1 bytes), when there is room for one. */
__attribute__((format(printf, 3, 4)))
void reason_set(char *why, size_t len, const char *fmt, ...);

/* reason_set, then returns err: `return reason_err(-EINVAL, why, len, "pf %u: ...", pf);` */
__attribute__((format(printf, 4, 5)))
int reason_err(int err, char *why, size_t len, const char *fmt, ...);

#endif
