/* SPDX-License-Identifier: MIT */
/*
 * The directories the daemon keeps files in (run dir, state dir), trusted the way systemd
 * trusts its own: the daemon runs as root, so a directory another user controls would let
 * that user point a name the daemon opens at any file (a symlink at the lock file's name
 * turns root's O_CREAT into "create /etc/whatever"). Such a directory is refused, not
 * repaired; files in an accepted one are opened relative to its descriptor, O_NOFOLLOW.
 */
#ifndef VFPOOL_CORE_SAFE_DIR_H
#define VFPOOL_CORE_SAFE_DIR_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Opens path (O_DIRECTORY, O_NOFOLLOW: never through a symlink as its last component) and
 * returns its descriptor, or -errno with why set ("run dir /tmp/x: owned by uid 1000, not
 * by the daemon (uid 0)"); what names the directory in messages ("run dir").
 *
 * When it does not exist it is created with create_mode (exactly: the umask does not
 * apply) and group create_gid ((gid_t)-1: the daemon's); create_mode 0: not created
 * (-ENOENT). Then it must be a directory owned
 * by the daemon's effective uid and writable by nobody else (no group or other write
 * bit). Its parents are checked as systemd's chase(CHASE_SAFE) does: walking the resolved
 * path from /, a directory owned by a user other than root may only hold entries of that
 * same user (else that user could swap what the daemon reaches), and no directory on the
 * way is world-writable without the sticky bit.
 *
 * ret_real (real_len bytes, may be NULL) receives the resolved path, the one to use for
 * anything still opened by name (it goes through checked directories only).
 */
int safe_dir_open(const char *path, const char *what, mode_t create_mode, gid_t create_gid,
		  char *ret_real, size_t real_len, char *why, size_t why_len);

#endif
