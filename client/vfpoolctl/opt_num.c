/* SPDX-License-Identifier: MIT */
/* Numbers and MACs as an operator types them: all of the word or an error, never a prefix
 * ("7x"), a sign ("-1" is not 2^64-1) or a default ("abc" is not 0). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "client/vfpoolctl/cmds.h"

int ctl_parse_u64(const char *s, uint64_t *ret_value)
{
	char *end;
	unsigned long long v;

	/* strtoull takes spaces, a sign and "0x": only digits are a number here */
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*ret_value = v;
	return 0;
}

int ctl_parse_uint(const char *s, unsigned min, unsigned max, unsigned *ret_value)
{
	uint64_t v;

	if (ctl_parse_u64(s, &v) || v < min || v > max)
		return -EINVAL;
	*ret_value = (unsigned)v;
	return 0;
}

int ctl_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	int end = 0;

	/* %n after the last byte: nothing may follow it; %2x also takes "+f": check digits */
	for (int i = 0; i < 17; i++) {
		char ch = s[i];
		bool colon = i % 3 == 2;

		if (!ch || (colon ? ch != ':' : !((ch >= '0' && ch <= '9') ||
						   (ch >= 'a' && ch <= 'f') ||
						   (ch >= 'A' && ch <= 'F'))))
			return -EINVAL;
	}
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &end) != 6 || end != 17 || s[17])
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}
