/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>

#include "core/base/reason.h"

__attribute__((format(printf, 3, 0)))
static void reason_vset(char *why, size_t len, const char *fmt, va_list ap)
{
	if (why && len)
		vsnprintf(why, len, fmt, ap);
}

void reason_set(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reason_vset(why, len, fmt, ap);
	va_end(ap);
}

int reason_err(int err, char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reason_vset(why, len, fmt, ap);
	va_end(ap);
	return err;
}
