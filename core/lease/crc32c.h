/* SPDX-License-Identifier: MIT */
/* CRC32C (Castagnoli), the checksum of every journal record. Table-driven, no CPU
 * dependency: the journal is read once at start and written in small records. */
#ifndef VFPOOL_CORE_CRC32C_H
#define VFPOOL_CORE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues crc over buf; start with 0. crc32c("123456789") == 0xe3069283. */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

#endif
