/* SPDX-License-Identifier: MIT */
/* The listening control socket and the handshake messages on it. */
#ifndef VFPOOL_CORE_CONTROL_SOCKET_H
#define VFPOOL_CORE_CONTROL_SOCKET_H

#include <stdint.h>
#include <sys/types.h>

#include "shm/control_proto.h"

#define VFPOOL_LOCK_FILE "vfpoold.lock"

/* Takes vfpoold.lock in the verified run dir dir_fd (core/safe_dir.h): one daemon per run
 * dir (its journal and socket). Held for the daemon's life through *ret_fd. -EADDRINUSE
 * when another daemon holds it; -ELOOP when the name is a symlink (never followed);
 * -EINVAL when it is not a regular file. */
int control_lock_run_dir(int dir_fd, int *ret_fd);

/* Binds vfpool.sock in the run dir (dir_fd, and run_dir its resolved path for bind): mode
 * 0660, group gid unless (gid_t)-1, non-blocking, replacing a dead daemon's socket file.
 * Call with the run dir's lock held. */
int control_listen(int dir_fd, const char *run_dir, gid_t gid, int *ret_fd);
void control_unlink(int dir_fd);

/* 0, or -EPROTO with why set. */
int control_check_hello(const struct vfpool_ctl_hello *h, const char **ret_why);

/* Sends the welcome; fds (ring, state, and the pending summary when summary_fd >= 0) are
 * attached only when status is 0. Non-blocking: the socket buffer of a fresh connection
 * always has room for 128 bytes. */
int control_send_welcome(int fd, int32_t status, uint32_t client_id, uint64_t ring_size,
			 uint64_t state_size, int ring_fd, int state_fd, int summary_fd,
			 const char *message);

#endif
