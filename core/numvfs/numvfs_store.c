/* SPDX-License-Identifier: MIT */
/* The persisted numvfs values: <state-dir>/virtual_functions/<pci-address> holding "N\n". */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/atomic_file.h"
#include "core/base/array.h"
#include "core/base/parse_uint.h"
#include "core/base/reason.h"
#include "core/numvfs/numvfs.h"

/* Names in the directory are PCI addresses and nothing else: no path can be smuggled in. */
static bool valid_pci_name(const char *s)
{
	static const char shape[] = "xxxx:xx:xx.x";

	if (strlen(s) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == 'x' ? !isxdigit((unsigned char)s[i]) : s[i] != shape[i])
			return false;
	return true;
}

static int open_store_dir(const char *state_dir, bool create)
{
	int sfd, dfd;

	sfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0)
		return -errno;
	if (create && mkdirat(sfd, NUMVFS_DIR, 0755) < 0 && errno != EEXIST) {
		int r = -errno;

		close(sfd);
		return r;
	}
	dfd = openat(sfd, NUMVFS_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		dfd = -errno;
	/* the new directory's entry in state_dir must be durable too */
	if (dfd >= 0 && create && fsync(sfd) < 0) {
		close(dfd);
		dfd = -errno;
	}
	close(sfd);
	return dfd;
}

int numvfs_store_save(const char *state_dir, const char *pci, unsigned n)
{
	char buf[16];
	int dfd, r;

	if (!state_dir || !pci || !valid_pci_name(pci) || n > NUMVFS_MAX)
		return -EINVAL;
	dfd = open_store_dir(state_dir, true);
	if (dfd < 0)
		return dfd;
	r = atomic_file_replace(dfd, pci, buf, (size_t)snprintf(buf, sizeof(buf), "%u\n", n), 0644);
	close(dfd);
	return r;
}

/* What numvfs_store_save writes: a plain number (core/base/parse_uint.h) up to NUMVFS_MAX
 * without a leading zero, then one optional newline, and nothing else: s holds len bytes
 * and a NUL after them, so a NUL among them ends the number short of len. */
static int parse_value(const char *s, size_t len, unsigned *ret)
{
	const char *end;
	unsigned v;

	if (parse_uint_prefix(s, NUMVFS_MAX, &v, &end) < 0 || (end - s > 1 && s[0] == '0'))
		return -EBADMSG;
	if (*end == '\n')
		end++;
	if ((size_t)(end - s) != len)
		return -EBADMSG;
	*ret = v;
	return 0;
}

static int load_at(int dfd, const char *state_dir, const char *pci, unsigned *ret_n,
		   char *why, size_t why_len)
{
	char buf[16];
	ssize_t len;
	int fd, r;

	fd = openat(dfd, pci, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		if (r != -ENOENT)
			reason_set(why, why_len, "%s/%s/%s: %s", state_dir, NUMVFS_DIR, pci,
				   strerror(-r));
		return r;
	}
	len = read(fd, buf, sizeof(buf));
	r = len < 0 ? -errno : 0;
	close(fd);
	if (r < 0) {
		reason_set(why, why_len, "%s/%s/%s: %s", state_dir, NUMVFS_DIR, pci, strerror(-r));
		return r;
	}
	if ((size_t)len < sizeof(buf))
		buf[len] = '\0';
	if ((size_t)len == sizeof(buf) || parse_value(buf, (size_t)len, ret_n) < 0) {
		reason_set(why, why_len,
			   "%s/%s/%s: corrupt: not a number of VFs (0..%u), not trusted", state_dir,
			   NUMVFS_DIR, pci, NUMVFS_MAX);
		return -EBADMSG;
	}
	return 0;
}

int numvfs_store_load(const char *state_dir, const char *pci, unsigned *ret_n, char *why,
		      size_t why_len)
{
	int dfd, r;

	if (!state_dir || !pci || !ret_n || !valid_pci_name(pci))
		return -EINVAL;
	dfd = open_store_dir(state_dir, false);
	if (dfd < 0) {
		if (dfd != -ENOENT)
			reason_set(why, why_len, "%s/%s: %s", state_dir, NUMVFS_DIR,
				   strerror(-dfd));
		return dfd;
	}
	r = load_at(dfd, state_dir, pci, ret_n, why, why_len);
	close(dfd);
	return r;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct numvfs_entry *)a)->pci_addr,
		      ((const struct numvfs_entry *)b)->pci_addr);
}

int numvfs_store_list(const char *state_dir, struct numvfs_entry **ret_entries,
		      size_t *ret_n, char *why, size_t why_len)
{
	struct numvfs_entry *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int dfd, r = 0;

	if (!state_dir || !ret_entries || !ret_n)
		return -EINVAL;
	dfd = open_store_dir(state_dir, false);
	if (dfd == -ENOENT) {
		*ret_entries = NULL;
		*ret_n = 0;
		return 0;
	}
	if (dfd < 0) {
		reason_set(why, why_len, "%s/%s: %s", state_dir, NUMVFS_DIR, strerror(-dfd));
		return dfd;
	}
	d = fdopendir(dfd);
	if (!d) {
		r = -errno;
		close(dfd);
		return r;
	}
	while ((errno = 0, de = readdir(d))) {
		/* dot files are ours in flight (a save interrupted before its rename) */
		if (de->d_name[0] == '.')
			continue;
		if (!valid_pci_name(de->d_name)) {
			reason_set(why, why_len, "%s/%s/%s: not a PCI address, not trusted",
				   state_dir, NUMVFS_DIR, de->d_name);
			r = -EBADMSG;
			goto out;
		}
		r = array_reserve(v, cap, n + 1, 8);
		if (r < 0)
			goto out;
		memcpy(v[n].pci_addr, de->d_name, strlen(de->d_name) + 1);
		r = load_at(dirfd(d), state_dir, de->d_name, &v[n].n, why, why_len);
		if (r < 0)
			goto out;
		n++;
	}
	if (errno)
		r = -errno;
out:
	closedir(d);
	if (r < 0) {
		free(v);
		return r;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_entry);
	*ret_entries = v;
	*ret_n = n;
	return 0;
}
