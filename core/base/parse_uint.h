/* SPDX-License-Identifier: MIT */
/*
 * Strict decimal numbers, for what an operator types (vfpoold's options, control commands)
 * and what the daemon reads back from its own files: digits only, so no sign, no space, no
 * base prefix, no trailing text; strtoul would take " 7", "+7", "-1" (as ULONG_MAX) and
 * "0x7" in some bases. No locale, no errno.
 */
#ifndef VFPOOL_CORE_BASE_PARSE_UINT_H
#define VFPOOL_CORE_BASE_PARSE_UINT_H

/* s is a whole number of at most max: 0 and *ret_value; -EINVAL when s is not only digits
 * (NULL and "" included); -ERANGE when it is larger than max. */
int parse_uint(const char *s, unsigned max, unsigned *ret_value);

/* The number that starts s and ends at its first non-digit, returned in *ret_end ("4x64":
 * 4, and *ret_end at "x64"). -EINVAL when s does not start with a digit; -ERANGE as above. */
int parse_uint_prefix(const char *s, unsigned max, unsigned *ret_value, const char **ret_end);

#endif
