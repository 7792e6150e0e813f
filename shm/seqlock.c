/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "shm/seqlock.h"

#if defined(__SANITIZE_THREAD__)
/* TSan intercepts memcpy even in uninstrumented functions; copy by hand instead. */
__attribute__((no_sanitize("thread"))) void seqlock_copy(void *dst, const void *src, size_t n)
{
	const volatile unsigned char *s = src;
	unsigned char *d = dst;

	for (size_t i = 0; i < n; i++)
		d[i] = s[i];
}
#else
void seqlock_copy(void *dst, const void *src, size_t n)
{
	/* The acquire fence in seqlock_read_retry keeps these loads before the re-check. */
	memcpy(dst, src, n);
}
#endif
