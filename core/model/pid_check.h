/* SPDX-License-Identifier: MIT */
/* Whether a process exists, for the request path (a bind to a process that does not exist
 * is refused). Its own file so the ring decoder links without the pid watch's io_uring. */
#ifndef VFPOOL_CORE_PID_CHECK_H
#define VFPOOL_CORE_PID_CHECK_H

#include <sys/types.h>

/* 0 if pid names a live process (a zombie counts: its exit is seen at once), -ESRCH if
 * not. */
int pid_watch_check(pid_t pid);

#endif
