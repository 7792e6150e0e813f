/* SPDX-License-Identifier: MIT */
#ifndef VFPOOL_VFPOOLCTL_OPT_NUM_H
#define VFPOOL_VFPOOLCTL_OPT_NUM_H

/* A decimal option value in [min, max]; -EINVAL otherwise (no partial numbers). */
int ctl_parse_uint(const char *s, unsigned min, unsigned max, unsigned *ret_value);

#endif
