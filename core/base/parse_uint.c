/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/base/parse_uint.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The run of digits at s: where it ends, its value in *value, or *over when above max
 * (the digits are still all read, so the end is right either way). */
static const char *scan_digits(const char *s, unsigned max, unsigned *value, bool *over)
{
	uint64_t v = 0; /* stays <= max <= UINT_MAX until *over: v * 10 + 9 never wraps */

	*over = false;
	for (; is_digit(*s); s++) {
		if (*over)
			continue;
		v = v * 10 + (uint64_t)(*s - '0');
		*over = v > max;
	}
	*value = (unsigned)v;
	return s;
}

int parse_uint_prefix(const char *s, unsigned max, unsigned *ret_value, const char **ret_end)
{
	const char *end;
	unsigned v;
	bool over;

	if (!s || !is_digit(*s))
		return -EINVAL;
	end = scan_digits(s, max, &v, &over);
	if (over)
		return -ERANGE;
	*ret_value = v;
	*ret_end = end;
	return 0;
}

int parse_uint(const char *s, unsigned max, unsigned *ret_value)
{
	unsigned v;
	bool over;

	if (!s || !is_digit(*s))
		return -EINVAL;
	/* the shape before the size: "99999999999x" is no number, not a too large one */
	if (*scan_digits(s, max, &v, &over))
		return -EINVAL;
	if (over)
		return -ERANGE;
	*ret_value = v;
	return 0;
}
