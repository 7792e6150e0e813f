/* SPDX-License-Identifier: MIT */
/* libnl reports NLE_* codes, which are not errno values (NLE_NOMEM is 5, ENOMEM is 12). */
#ifndef VFPOOL_CORE_NL_ERRNO_H
#define VFPOOL_CORE_NL_ERRNO_H

/* Maps a libnl result (negative NLE_* or >= 0) to a negative errno (or passes >= 0 through).
 * The one place where libnl codes cross into vfpool. */
int nl_errno(int nl_result);

#endif
