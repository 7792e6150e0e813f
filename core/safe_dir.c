/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/base/reason.h"
#include "core/safe_dir.h"

/* systemd's unsafe_transition(): from a directory of root anything goes; from another
 * user's, only to that user's own entries. */
static bool unsafe_transition(const struct stat *from, const struct stat *to)
{
	return from->st_uid != 0 && from->st_uid != to->st_uid;
}

/* Someone may rename entries of a world-writable directory unless it is sticky (/tmp). */
static bool replaceable_by_anyone(const struct stat *st)
{
	return (st->st_mode & S_IWOTH) && !(st->st_mode & S_ISVTX);
}

/* Checks the step from parent (at parent_path) into child (its entry name). */
static int check_step(const char *what, const char *path, const char *parent_path,
		      const struct stat *parent, const char *name, const struct stat *child,
		      char *why, size_t len)
{
	if (unsafe_transition(parent, child))
		return reason_err(-EPERM, why, len,
			"%s %s: unsafe path: %s is owned by uid %u and holds %s owned by uid %u",
			what, path, parent_path, (unsigned)parent->st_uid, name,
			(unsigned)child->st_uid);
	if (replaceable_by_anyone(parent))
		return reason_err(-EPERM, why, len,
			"%s %s: unsafe path: %s is world-writable without the sticky bit (mode %04o)",
			what, path, parent_path, (unsigned)(parent->st_mode & 07777));
	return 0;
}

/* Walks the resolved parent from / without following anything; *ret_fd (O_PATH) and *ret_st
 * describe it at the end. A symlink met here appeared after realpath: refused. */
static int walk_parent(const char *what, const char *path, const char *real, int *ret_fd,
		       struct stat *ret_st, char *why, size_t len)
{
	char walked[PATH_MAX] = "/", comp[NAME_MAX + 1];
	struct stat st, next_st;
	const char *p = real;
	int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), r;

	if (fd < 0 || fstat(fd, &st) < 0) {
		r = reason_err(-errno, why, len, "%s %s: /: %s", what, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return r;
	}
	while (*p) {
		size_t n;
		int next;

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (n == 0)
			break;
		if (n > NAME_MAX) {
			close(fd);
			return reason_err(-ENAMETOOLONG, why, len, "%s %s: name too long", what,
					  path);
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		p += n;
		next = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 || fstat(next, &next_st) < 0) {
			r = reason_err(-errno, why, len, "%s %s: %s%s%s: %s", what, path, walked,
				       strcmp(walked, "/") ? "/" : "", comp,
				       errno == ENOTDIR ? "changed while being checked"
							: strerror(errno));
			if (next >= 0)
				close(next);
			close(fd);
			return r;
		}
		r = check_step(what, path, walked, &st, comp, &next_st, why, len);
		close(fd);
		if (r) {
			close(next);
			return r;
		}
		if (strlen(walked) + n + 2 > sizeof(walked)) {
			close(next);
			return reason_err(-ENAMETOOLONG, why, len, "%s %s: path too long", what,
					  path);
		}
		if (strcmp(walked, "/"))
			strcat(walked, "/");
		strcat(walked, comp);
		fd = next;
		st = next_st;
	}
	*ret_fd = fd;
	*ret_st = st;
	return 0;
}

int safe_dir_open(const char *path, const char *what, mode_t create_mode, gid_t create_gid,
		  char *ret_real, size_t real_len, char *why, size_t why_len)
{
	char buf[PATH_MAX], real_parent[PATH_MAX], *slash, *name;
	const char *parent;
	struct stat parent_st, st;
	bool created = false;
	int pfd = -1, fd = -1, r;
	uid_t euid = geteuid();

	if (!path || !*path || strlen(path) >= sizeof(buf))
		return reason_err(-EINVAL, why, why_len, "%s: no usable path", what);
	strcpy(buf, path);
	for (size_t n = strlen(buf); n > 1 && buf[n - 1] == '/'; n--)
		buf[n - 1] = '\0';
	slash = strrchr(buf, '/');
	if (slash) {
		*slash = '\0';
		name = slash + 1;
		parent = buf[0] ? buf : "/";
	} else {
		name = buf;
		parent = ".";
	}
	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return reason_err(-EINVAL, why, why_len, "%s %s: name a directory, not / . or ..",
				  what, path);
	/* symlinks on the way (/var/run -> /run) are resolved once, then walked without
	 * following anything: what is checked is what is used */
	if (!realpath(parent, real_parent))
		return reason_err(-errno, why, why_len, "%s %s: %s: %s", what, path, parent,
				  strerror(errno));
	r = walk_parent(what, path, real_parent, &pfd, &parent_st, why, why_len);
	if (r)
		return r;

	if (create_mode && mkdirat(pfd, name, create_mode) == 0)
		created = true;
	else if (create_mode && errno != EEXIST) {
		r = reason_err(-errno, why, why_len, "%s %s: creating it: %s", what, path,
			       strerror(errno));
		goto out;
	}
	fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		struct stat lst;

		r = -errno;
		if (r == -ENOTDIR && fstatat(pfd, name, &lst, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(lst.st_mode))
			reason_err(-ELOOP, why, why_len, "%s %s: is a symlink (not followed)", what,
				   path);
		else
			reason_err(r, why, why_len, "%s %s: %s", what, path, strerror(-r));
		r = r == -ENOTDIR ? -ELOOP : r;
		goto out;
	}
	if (created) {
		/* exactly the mode asked for, whatever the umask; the group before anyone can
		 * look in (it is empty and only ours until then) */
		if ((create_gid != (gid_t)-1 && fchown(fd, (uid_t)-1, create_gid) < 0) ||
		    fchmod(fd, create_mode) < 0) {
			r = reason_err(-errno, why, why_len, "%s %s: setting owner and mode: %s",
				       what, path, strerror(errno));
			goto out;
		}
	}
	if (fstat(fd, &st) < 0) {
		r = reason_err(-errno, why, why_len, "%s %s: %s", what, path, strerror(errno));
		goto out;
	}
	r = check_step(what, path, real_parent, &parent_st, name, &st, why, why_len);
	if (r)
		goto out;
	if (st.st_uid != euid) {
		r = reason_err(-EPERM, why, why_len,
			       "%s %s: owned by uid %u, not by the daemon (uid %u)", what, path,
			       (unsigned)st.st_uid, (unsigned)euid);
		goto out;
	}
	if (st.st_mode & S_IWOTH) {
		r = reason_err(-EPERM, why, why_len, "%s %s: is world-writable (mode %04o)", what,
			       path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if (st.st_mode & S_IWGRP) {
		r = reason_err(-EPERM, why, why_len, "%s %s: is group-writable (mode %04o)", what,
			       path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if (ret_real && (size_t)snprintf(ret_real, real_len, "%s/%s",
					 strcmp(real_parent, "/") ? real_parent : "", name) >= real_len) {
		r = reason_err(-ENAMETOOLONG, why, why_len, "%s %s: path too long", what, path);
		goto out;
	}
	r = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	close(pfd);
	return r;
}
