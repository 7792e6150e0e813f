/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/atomic_file.h"
#include "core/base/reason.h"
#include "core/host/pf_selector_store.h"

#define FILE_MAX (PF_SEL_MAX * PF_SEL_TEXT_MAX + 4096) /* every selector, and comments */

/* The whole file, NUL-terminated; root reads it: never through a link, never a FIFO. */
static int read_file(int dfd, char **ret, char *why, size_t len, const char *state_dir)
{
	int fd = openat(dfd, PF_SELECTOR_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	char *buf;
	size_t off = 0;
	int r;

	if (fd < 0) {
		r = -errno;
		if (r == -ENOENT)
			return r;
		return reason_err(r, why, len, "%s/%s: %s", state_dir, PF_SELECTOR_FILE,
				  r == -ELOOP ? "a symlink, not followed" : strerror(-r));
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > FILE_MAX) {
		close(fd);
		return reason_err(-EINVAL, why, len, "%s/%s: not a regular file of at most %d bytes",
				  state_dir, PF_SELECTOR_FILE, FILE_MAX);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return reason_err(-ENOMEM, why, len, "out of memory");
	}
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + off, (size_t)st.st_size - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			free(buf);
			close(fd);
			return reason_err(r, why, len, "%s/%s: %s", state_dir, PF_SELECTOR_FILE,
					  n < 0 ? strerror(-r) : "shorter than its size");
		}
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	if (strlen(buf) != off) {
		free(buf);
		return reason_err(-EINVAL, why, len, "%s/%s: a NUL byte in the file", state_dir,
				  PF_SELECTOR_FILE);
	}
	*ret = buf;
	return 0;
}

int pf_selector_store_load(const char *state_dir, struct pf_selectors *ret, char *why,
			   size_t why_len)
{
	char *text = NULL, reason[300];
	int dfd, r;

	dfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return reason_err(-errno, why, why_len, "%s: %s", state_dir, strerror(errno));
	r = read_file(dfd, &text, why, why_len, state_dir);
	close(dfd);
	if (r == -ENOENT) {
		ret->n = 0;
		return 0;
	}
	if (r)
		return r;
	r = pf_selectors_parse(text, ret, reason, sizeof(reason));
	free(text);
	if (r)
		return reason_err(r, why, why_len, "%s/%s: %s", state_dir, PF_SELECTOR_FILE, reason);
	return 0;
}

int pf_selector_store_save(const char *state_dir, const struct pf_selectors *l, char *why,
			   size_t why_len)
{
	char *text = pf_selectors_render(l);
	int dfd, r;

	if (!text)
		return reason_err(-ENOMEM, why, why_len, "out of memory");
	/* the daemon verified (and made) it at start (core/safe_dir.h): never through a link */
	dfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		r = reason_err(-errno, why, why_len, "%s: %s", state_dir, strerror(errno));
		free(text);
		return r;
	}
	r = atomic_file_replace(dfd, PF_SELECTOR_FILE, text, strlen(text), 0644);
	if (r)
		reason_err(r, why, why_len, "%s/%s: %s", state_dir, PF_SELECTOR_FILE, strerror(-r));
	close(dfd);
	free(text);
	return r;
}
