/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/control_socket.h"
#include "shm/layout.h"

/* The socket is bound and made to listen under this name, then renamed into place once the
 * daemon is ready: whoever sees VFPOOL_CTL_SOCKET can connect and be served, never
 * refused (a connect between bind and listen is ECONNREFUSED). */
#define CTL_SOCKET_UNPUBLISHED VFPOOL_CTL_SOCKET ".new"

static int socket_path(const char *run_dir, const char *name, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s", run_dir, name) >=
	    (int)sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

int control_listen(int dir_fd, const char *run_dir, gid_t gid, int *ret_fd)
{
	struct sockaddr_un sa;
	int fd, r = socket_path(run_dir, CTL_SOCKET_UNPUBLISHED, &sa);

	if (r)
		return r;
	/* whoever holds the run dir's lock (daemon_new) owns it: a socket file here is a dead
	 * daemon's, even if its io_uring still answers connects while the kernel tears it down.
	 * Both go now: until this daemon publishes its own, nobody finds a socket to try. */
	if (unlinkat(dir_fd, VFPOOL_CTL_SOCKET, 0) < 0 && errno != ENOENT)
		return -errno;
	if (unlinkat(dir_fd, CTL_SOCKET_UNPUBLISHED, 0) < 0 && errno != ENOENT)
		return -errno;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* bind takes a path: run_dir is the verified, resolved one (core/safe_dir.h), and its
	 * directories let nobody else swap an entry; mode and group are set by name in it */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    fchmodat(dir_fd, CTL_SOCKET_UNPUBLISHED, 0660, 0) < 0 ||
	    (gid != (gid_t)-1 &&
	     fchownat(dir_fd, CTL_SOCKET_UNPUBLISHED, (uid_t)-1, gid, AT_SYMLINK_NOFOLLOW) < 0) ||
	    listen(fd, 128) < 0) {
		r = -errno;
		close(fd);
		unlinkat(dir_fd, CTL_SOCKET_UNPUBLISHED, 0);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

int control_publish(int dir_fd)
{
	/* atomic: the name appears with a listening socket behind it, mode and group set */
	if (renameat(dir_fd, CTL_SOCKET_UNPUBLISHED, dir_fd, VFPOOL_CTL_SOCKET) < 0)
		return -errno;
	return 0;
}

void control_unlink(int dir_fd)
{
	unlinkat(dir_fd, VFPOOL_CTL_SOCKET, 0);
	unlinkat(dir_fd, CTL_SOCKET_UNPUBLISHED, 0);
}

static bool entries_ok(uint32_t n)
{
	return n >= 8 && n <= VFPOOL_RING_MAX_ENTRIES && (n & (n - 1)) == 0;
}

int control_check_hello(const struct vfpool_ctl_hello *h, const char **ret_why)
{
	if (h->magic != VFPOOL_CTL_MAGIC) {
		*ret_why = "bad magic";
		return -EPROTO;
	}
	if (h->version != VFPOOL_CTL_VERSION) {
		*ret_why = "unsupported protocol version";
		return -EPROTO;
	}
	if (h->type != VFPOOL_CTL_HELLO) {
		*ret_why = "expected hello";
		return -EPROTO;
	}
	if (!entries_ok(h->sq_entries) || !entries_ok(h->cq_entries)) {
		*ret_why = "ring entries not a power of two in 8..4096";
		return -EPROTO;
	}
	for (size_t i = 0; i < sizeof(h->reserved); i++) {
		if (h->reserved[i]) {
			*ret_why = "reserved bytes not zero";
			return -EPROTO;
		}
	}
	return 0;
}

int control_send_welcome(int fd, int32_t status, uint32_t client_id, uint64_t ring_size,
			 uint64_t state_size, int ring_fd, int state_fd, int summary_fd,
			 const char *message)
{
	struct vfpool_ctl_welcome w = {
		.magic = VFPOOL_CTL_MAGIC, .version = VFPOOL_CTL_VERSION,
		.type = VFPOOL_CTL_WELCOME, .status = status, .client_id = client_id,
		.ring_size = ring_size, .state_size = state_size,
	};
	struct iovec iov = { .iov_base = &w, .iov_len = sizeof(w) };
	union {
		char buf[CMSG_SPACE(3 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (message)
		snprintf(w.message, sizeof(w.message), "%s", message);
	if (status == 0) {
		struct cmsghdr *c;
		int fds[3] = { ring_fd, state_fd, summary_fd };
		size_t n_fds = summary_fd >= 0 ? 3 : 2;

		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(n_fds * sizeof(int));
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(n_fds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, n_fds * sizeof(int));
	}
	n = sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(w) ? 0 : -EIO;
}

int control_lock_run_dir(int dir_fd, int *ret_fd)
{
	struct stat st;
	int fd, r;

	/* never through a link: root's O_CREAT would create whatever file it names */
	fd = openat(dir_fd, VFPOOL_LOCK_FILE, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
		    0600);
	if (fd < 0)
		return errno == ENOTDIR ? -ELOOP : -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else
		r = S_ISREG(st.st_mode) ? 0 : -EINVAL;
	/* released by the kernel the moment the holder dies, whatever else it left open */
	if (r == 0 && flock(fd, LOCK_EX | LOCK_NB) < 0)
		r = errno == EWOULDBLOCK ? -EADDRINUSE : -errno;
	if (r) {
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}
