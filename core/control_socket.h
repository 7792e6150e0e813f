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

/* Binds the control socket in the run dir (dir_fd, and run_dir its resolved path for bind)
 * under a temporary name and listens: mode 0660, group gid unless (gid_t)-1, non-blocking,
 * removing a dead daemon's socket file. Connections queue in the backlog from here on but
 * nobody finds the socket until control_publish. Call with the run dir's lock held. */
int control_listen(int dir_fd, const char *run_dir, gid_t gid, int *ret_fd);
/* Renames the listening socket to vfpool.sock (atomically): once the daemon is ready, so
 * that a script may wait for the file and then connect. */
int control_publish(int dir_fd);
/* Removes the socket file, published or not. */
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
