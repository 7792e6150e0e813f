/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>

#include "client/vfpoolctl/opt_num.h"

int ctl_parse_uint(const char *s, unsigned min, unsigned max, unsigned *ret_value)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*ret_value = (unsigned)v;
	return 0;
}
