/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shm/liveness.h"

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The namespace's inode (0 when /proc cannot say: then nothing is compared). */
static uint64_t ns_id(const char *name)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/self/ns/%s", name);
	return stat(path, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

int proc_stat_start(int pid, uint64_t *ret_starttime, char *ret_state)
{
	char path[64], buf[1024], *p, *end;
	unsigned long long start;
	ssize_t n;
	int fd, r;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/stat");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	r = n < 0 ? -errno : 0;
	close(fd);
	if (r)
		return r;
	buf[n] = '\0';
	/* "pid (comm) S ppid ...": comm may hold spaces and parentheses, the last ')' ends it */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2])
		return -EPROTO;
	*ret_state = p[2];
	p += 2;
	/* fields 3 (state) .. 22 (starttime): skip 19 separators */
	for (int i = 0; i < 19; i++) {
		p = strchr(p, ' ');
		if (!p)
			return -EPROTO;
		p++;
	}
	errno = 0;
	start = strtoull(p, &end, 10);
	if (errno || end == p)
		return -EPROTO;
	*ret_starttime = start;
	return 0;
}

void state_writer_init(struct vfpool_state_hdr *h)
{
	uint64_t start = 0;
	char st;

	h->daemon_pid = getpid();
	h->daemon_starttime = proc_stat_start(0, &start, &st) == 0 ? start : 0;
	h->daemon_pidns = ns_id("pid");
	h->daemon_timens = ns_id("time");
	state_heartbeat(h);
}

void state_heartbeat(struct vfpool_state_hdr *h)
{
	/* relaxed: a reader only compares the values with its clock; no data hangs on them */
	atomic_store_explicit(&h->heartbeat_mono_ns, clock_ns(CLOCK_MONOTONIC),
			      memory_order_relaxed);
	atomic_store_explicit(&h->heartbeat_real_ns, clock_ns(CLOCK_REALTIME),
			      memory_order_relaxed);
}

__attribute__((format(printf, 3, 4)))
static int gone(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return -EOWNERDEAD;
}

int state_writer_process_check(const struct vfpool_state_hdr *h, struct state_reader_ns *ns,
			       char *why, size_t len)
{
	int pid = h->daemon_pid;
	uint64_t start = 0;
	char state = 0;
	int r;

	ns->pidns = ns_id("pid");
	ns->timens = ns_id("time");
	/* relaxed: a field of a private copy */
	if (atomic_load_explicit(&h->flags, memory_order_relaxed) & VFPOOL_STATE_F_EXITED)
		return gone(why, len, "process %d shut down", pid);
	if (pid <= 0 || !h->daemon_pidns || h->daemon_pidns != ns->pidns)
		return 0; /* its pid means nothing here: the heartbeat decides */
	/* EPERM: it exists, owned by someone we may not signal */
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return gone(why, len, "process %d is gone", pid);
	r = proc_stat_start(pid, &start, &state);
	if (r == -ENOENT || r == -ESRCH)
		return gone(why, len, "process %d is gone", pid);
	if (r)
		return 0; /* /proc hides it (hidepid): kill said it exists */
	if (state == 'Z' || state == 'X')
		return gone(why, len, "process %d has exited", pid);
	if (h->daemon_starttime && start != h->daemon_starttime)
		return gone(why, len, "process %d is gone (the pid is another process's now)", pid);
	return 0;
}

int state_writer_beat_check(const struct vfpool_state_hdr *h, const struct state_reader_ns *ns,
			    char *why, size_t len)
{
	/* relaxed: fields of a private copy */
	uint32_t flags = atomic_load_explicit(&h->flags, memory_order_relaxed);
	uint64_t mono = atomic_load_explicit(&h->heartbeat_mono_ns, memory_order_relaxed);
	uint64_t real = atomic_load_explicit(&h->heartbeat_real_ns, memory_order_relaxed);
	const uint64_t stale_ns = (uint64_t)VFPOOL_HEARTBEAT_STALE_MS * 1000000u;
	uint64_t now, beat;

	if (flags & VFPOOL_STATE_F_EXITED)
		return gone(why, len, "process %d shut down", (int)h->daemon_pid);
	if (!mono)
		return 0; /* a daemon older than the heartbeat */
	/* CLOCK_MONOTONIC is per time namespace; across one, the wall clock is all we share.
	 * The coarse clocks (a few ms behind, a third of the cost) are plenty for seconds */
	if (!h->daemon_timens || !ns->timens || h->daemon_timens == ns->timens) {
		now = clock_ns(CLOCK_MONOTONIC_COARSE);
		beat = mono;
	} else {
		now = clock_ns(CLOCK_REALTIME_COARSE);
		beat = real;
	}
	if (now > beat && now - beat > stale_ns)
		return gone(why, len, "no heartbeat from process %d for %llu s", (int)h->daemon_pid,
			    (unsigned long long)((now - beat) / 1000000000u));
	return 0;
}
