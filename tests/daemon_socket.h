/* SPDX-License-Identifier: MIT */
/* Whether a vfpoold answers on its run directory's socket. No Criterion: the soak links it. */
#ifndef VFPOOL_TESTS_DAEMON_SOCKET_H
#define VFPOOL_TESTS_DAEMON_SOCKET_H

#include <stdbool.h>

/* True when run_dir/vfpool.sock accepts a connection (closed again at once). */
bool socket_accepts(const char *run_dir);

#endif
