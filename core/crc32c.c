/* SPDX-License-Identifier: MIT */
#include "core/crc32c.h"

#define CRC32C_POLY_REFLECTED 0x82f63b78u

uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	/* bitwise, no table: records are ~200 bytes and there is no shared state to race on */
	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (CRC32C_POLY_REFLECTED & (0u - (crc & 1u)));
	}
	return ~crc;
}
