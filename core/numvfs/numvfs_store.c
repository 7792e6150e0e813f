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
#include "core/base/reason.h"
#include "core/numvfs/numvfs.h"

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

/* <state_dir>/<sub>, created (and made durable) when create; -ENOENT otherwise. */
static int open_sub_dir(const char *state_dir, const char *sub, bool create)
{
	int sfd, dfd;

	sfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0)
		return -errno;
	if (create && mkdirat(sfd, sub, 0755) < 0 && errno != EEXIST) {
		int r = -errno;

		close(sfd);
		return r;
	}
	/* not through a link: the directory is the one in state_dir, or none */
	dfd = openat(sfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
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
	dfd = open_sub_dir(state_dir, NUMVFS_DIR, true);
	if (dfd < 0)
		return dfd;
	r = atomic_file_replace(dfd, pci, buf, (size_t)snprintf(buf, sizeof(buf), "%u\n", n), 0644);
	close(dfd);
	return r;
}

/* Exactly decimal digits and one optional trailing newline, no leading zeros, <= max. */
static int parse_value(const char *s, size_t len, unsigned *ret)
{
	unsigned long v = 0;
	size_t i = 0;

	if (len && s[len - 1] == '\n')
		len--;
	if (len == 0 || len > 5 || (len > 1 && s[0] == '0'))
		return -EBADMSG;
	for (; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -EBADMSG;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > NUMVFS_MAX)
		return -EBADMSG;
	*ret = (unsigned)v;
	return 0;
}

static const char *file_kind(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFLNK: return "a symbolic link";
	case S_IFIFO: return "a FIFO";
	case S_IFDIR: return "a directory";
	case S_IFSOCK: return "a socket";
	case S_IFCHR: return "a character device";
	case S_IFBLK: return "a block device";
	default: return "not a regular file";
	}
}

/*
 * One store file, trusted only as a regular file of a few bytes holding a number. The boot
 * restore reads these as root before the network is up: a FIFO would block it forever, a
 * link could point anywhere, a device could act on open. So: look without following or
 * opening, open without following or blocking (no controlling tty either), and check the
 * open file is the one looked at.
 */
static int load_at(int dfd, const char *state_dir, const char *name, unsigned *ret_n,
		   char *why, size_t why_len)
{
	struct stat st, fst;
	char buf[16];
	ssize_t len;
	int fd, r;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		r = -errno;
		if (r != -ENOENT)
			reason_set(why, why_len, "%s/%s/%s: %s", state_dir, NUMVFS_DIR, name,
			    strerror(-r));
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		reason_set(why, why_len, "%s/%s/%s: %s, not a file holding a number of VFs: not trusted",
		    state_dir, NUMVFS_DIR, name, file_kind(st.st_mode));
		return -EBADMSG;
	}
	if (st.st_size >= (off_t)sizeof(buf)) {
		reason_set(why, why_len, "%s/%s/%s: %lld bytes, too large for a number of VFs (0..%u): "
		    "not trusted", state_dir, NUMVFS_DIR, name, (long long)st.st_size, NUMVFS_MAX);
		return -EBADMSG;
	}
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		if (r == -ELOOP) {
			reason_set(why, why_len, "%s/%s/%s: a symbolic link, not a file holding a number "
			    "of VFs: not trusted", state_dir, NUMVFS_DIR, name);
			return -EBADMSG;
		}
		if (r != -ENOENT)
			reason_set(why, why_len, "%s/%s/%s: %s", state_dir, NUMVFS_DIR, name,
			    strerror(-r));
		return r;
	}
	if (fstat(fd, &fst) < 0 || !S_ISREG(fst.st_mode) || fst.st_dev != st.st_dev ||
	    fst.st_ino != st.st_ino) {
		close(fd);
		reason_set(why, why_len, "%s/%s/%s: replaced while it was read: not trusted", state_dir,
		    NUMVFS_DIR, name);
		return -EBADMSG;
	}
	len = read(fd, buf, sizeof(buf));
	r = len < 0 ? -errno : 0;
	close(fd);
	if (r < 0) {
		reason_set(why, why_len, "%s/%s/%s: %s", state_dir, NUMVFS_DIR, name, strerror(-r));
		return r;
	}
	if ((size_t)len == sizeof(buf) || parse_value(buf, (size_t)len, ret_n) < 0) {
		reason_set(why, why_len, "%s/%s/%s: corrupt: not a number of VFs (0..%u), not trusted",
		    state_dir, NUMVFS_DIR, name, NUMVFS_MAX);
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
	dfd = open_sub_dir(state_dir, NUMVFS_DIR, false);
	if (dfd < 0) {
		if (dfd != -ENOENT)
			reason_set(why, why_len, "%s/%s: %s", state_dir, NUMVFS_DIR, strerror(-dfd));
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

/* Appends one element of size sz to *v (n used, *cap allocated). */
static void *grow(void **v, size_t n, size_t *cap, size_t sz)
{
	if (n == *cap) {
		size_t c = *cap ? *cap * 2 : 8;
		void *nv = reallocarray(*v, c, sz);

		if (!nv)
			return NULL;
		*v = nv;
		*cap = c;
	}
	return (char *)*v + n * sz;
}

int numvfs_store_list(const char *state_dir, struct numvfs_entry **ret_entries, size_t *ret_n,
		      struct numvfs_bad_entry **ret_bad, size_t *ret_n_bad, char *why,
		      size_t why_len)
{
	struct numvfs_entry *v = NULL, *e;
	struct numvfs_bad_entry *bad = NULL, *b;
	size_t n = 0, cap = 0, n_bad = 0, cap_bad = 0;
	struct dirent *de;
	DIR *d;
	int dfd, r = 0;

	if (!state_dir || !ret_entries || !ret_n || !ret_bad || !ret_n_bad)
		return -EINVAL;
	dfd = open_sub_dir(state_dir, NUMVFS_DIR, false);
	if (dfd == -ENOENT) {
		*ret_entries = NULL;
		*ret_n = 0;
		*ret_bad = NULL;
		*ret_n_bad = 0;
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
		char bad_why[sizeof(b->why)];
		unsigned value;
		int err;

		/* dot files are ours in flight (a save interrupted before its rename) */
		if (de->d_name[0] == '.')
			continue;
		/* one file that cannot be trusted costs its own PF, never the others' */
		if (!valid_pci_name(de->d_name)) {
			err = -EBADMSG;
			reason_set(bad_why, sizeof(bad_why), "%s/%s/%s: not a PCI address, not trusted",
			    state_dir, NUMVFS_DIR, de->d_name);
		} else {
			bad_why[0] = '\0';
			err = load_at(dirfd(d), state_dir, de->d_name, &value, bad_why,
				      sizeof(bad_why));
			if (err == -ENOENT)
				continue; /* removed since readdir: not managed any more */
		}
		if (err < 0) {
			b = grow((void **)&bad, n_bad, &cap_bad, sizeof(*bad));
			if (!b) {
				r = -ENOMEM;
				goto out;
			}
			snprintf(b->name, sizeof(b->name), "%s", de->d_name);
			snprintf(b->why, sizeof(b->why), "%s",
				 bad_why[0] ? bad_why : strerror(-err));
			b->err = err;
			n_bad++;
			continue;
		}
		e = grow((void **)&v, n, &cap, sizeof(*v));
		if (!e) {
			r = -ENOMEM;
			goto out;
		}
		memcpy(e->pci_addr, de->d_name, strlen(de->d_name) + 1);
		e->n = value;
		n++;
	}
	if (errno) {
		r = -errno;
		reason_set(why, why_len, "%s/%s: %s", state_dir, NUMVFS_DIR, strerror(-r));
	}
out:
	closedir(d);
	if (r < 0) {
		free(v);
		free(bad);
		return r;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_entry);
	*ret_entries = v;
	*ret_n = n;
	*ret_bad = bad;
	*ret_n_bad = n_bad;
	return 0;
}

/* ---- the changes in flight ---------------------------------------------------------------- */

int numvfs_boot_id(char buf[NUMVFS_BOOT_ID_MAX])
{
	ssize_t len;
	int fd, r = 0;

	buf[0] = '\0';
	fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = read(fd, buf, NUMVFS_BOOT_ID_MAX - 1);
	if (len < 0)
		r = -errno;
	close(fd);
	if (r < 0)
		return r;
	buf[len] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	for (char *c = buf; *c; c++)
		if (!isxdigit((unsigned char)*c) && *c != '-')
			return -EBADMSG;
	return buf[0] ? 0 : -EBADMSG;
}

int numvfs_intent_save(const char *state_dir, const char *pci, unsigned from, unsigned to)
{
	char buf[32 + NUMVFS_BOOT_ID_MAX], boot[NUMVFS_BOOT_ID_MAX];
	int dfd, r, len;

	if (!state_dir || !pci || !valid_pci_name(pci) || from > NUMVFS_MAX || to > NUMVFS_MAX)
		return -EINVAL;
	if (numvfs_boot_id(boot) < 0)
		boot[0] = '\0';
	dfd = open_sub_dir(state_dir, NUMVFS_INTENT_DIR, true);
	if (dfd < 0)
		return dfd;
	len = snprintf(buf, sizeof(buf), "%u %u%s%s\n", from, to, boot[0] ? " " : "", boot);
	r = atomic_file_replace(dfd, pci, buf, (size_t)len, 0644);
	close(dfd);
	return r;
}

int numvfs_intent_clear(const char *state_dir, const char *pci)
{
	int dfd, r = 0;

	if (!state_dir || !pci || !valid_pci_name(pci))
		return -EINVAL;
	dfd = open_sub_dir(state_dir, NUMVFS_INTENT_DIR, false);
	if (dfd == -ENOENT)
		return 0;
	if (dfd < 0)
		return dfd;
	if (unlinkat(dfd, pci, 0) < 0)
		r = errno == ENOENT ? 0 : -errno;
	else if (fsync(dfd) < 0) /* the removal is the end of the change: durable too */
		r = -errno;
	close(dfd);
	return r;
}

/* "FROM TO[ BOOT_ID]\n", the counts 0..NUMVFS_MAX without leading zeros. */
static int parse_intent(char *s, size_t len, struct numvfs_intent *ret)
{
	char *end = s + len, *sp, *sp2;

	if (len && end[-1] == '\n')
		end--;
	sp = memchr(s, ' ', (size_t)(end - s));
	if (!sp)
		return -EBADMSG;
	sp2 = memchr(sp + 1, ' ', (size_t)(end - (sp + 1)));
	if (parse_value(s, (size_t)(sp - s), &ret->from) < 0 ||
	    parse_value(sp + 1, (size_t)((sp2 ? sp2 : end) - sp - 1), &ret->to) < 0)
		return -EBADMSG;
	ret->boot_id[0] = '\0';
	if (sp2) {
		size_t n = (size_t)(end - sp2 - 1);

		if (n == 0 || n >= sizeof(ret->boot_id))
			return -EBADMSG;
		for (size_t i = 0; i < n; i++)
			if (!isxdigit((unsigned char)sp2[1 + i]) && sp2[1 + i] != '-')
				return -EBADMSG;
		memcpy(ret->boot_id, sp2 + 1, n);
		ret->boot_id[n] = '\0';
	}
	return 0;
}

/* One intent file, trusted only as load_at trusts a store file. */
static int intent_load_at(int dfd, const char *name, struct numvfs_intent *ret)
{
	struct stat st, fst;
	char buf[32 + NUMVFS_BOOT_ID_MAX];
	ssize_t len;
	int fd, r;

	if (!valid_pci_name(name))
		return -EBADMSG;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size >= (off_t)sizeof(buf))
		return -EBADMSG;
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? -EBADMSG : -errno;
	if (fstat(fd, &fst) < 0 || !S_ISREG(fst.st_mode) || fst.st_ino != st.st_ino ||
	    fst.st_dev != st.st_dev) {
		close(fd);
		return -EBADMSG;
	}
	len = read(fd, buf, sizeof(buf));
	r = len < 0 ? -errno : 0;
	close(fd);
	if (r < 0)
		return r;
	if ((size_t)len == sizeof(buf))
		return -EBADMSG;
	return parse_intent(buf, (size_t)len, ret);
}

int numvfs_intent_list(const char *state_dir, struct numvfs_intent **ret_intents, size_t *ret_n,
		       struct numvfs_bad_entry **ret_bad, size_t *ret_n_bad)
{
	struct numvfs_intent *v = NULL, *e;
	struct numvfs_bad_entry *bad = NULL, *b;
	size_t n = 0, cap = 0, n_bad = 0, cap_bad = 0;
	struct dirent *de;
	DIR *d;
	int dfd, r = 0;

	if (!state_dir || !ret_intents || !ret_n || !ret_bad || !ret_n_bad)
		return -EINVAL;
	*ret_intents = NULL;
	*ret_n = 0;
	*ret_bad = NULL;
	*ret_n_bad = 0;
	dfd = open_sub_dir(state_dir, NUMVFS_INTENT_DIR, false);
	if (dfd == -ENOENT)
		return 0;
	if (dfd < 0)
		return dfd;
	d = fdopendir(dfd);
	if (!d) {
		r = -errno;
		close(dfd);
		return r;
	}
	while ((errno = 0, de = readdir(d))) {
		struct numvfs_intent in;
		int err;

		if (de->d_name[0] == '.')
			continue; /* ours in flight, or . and .. */
		err = intent_load_at(dirfd(d), de->d_name, &in);
		if (err == -ENOENT)
			continue;
		if (err < 0) {
			b = grow((void **)&bad, n_bad, &cap_bad, sizeof(*bad));
			if (!b) {
				r = -ENOMEM;
				goto out;
			}
			snprintf(b->name, sizeof(b->name), "%s", de->d_name);
			snprintf(b->why, sizeof(b->why), "%s/%s/%s: %s", state_dir,
				 NUMVFS_INTENT_DIR, de->d_name,
				 err == -EBADMSG ? "not a numvfs change in flight, not trusted" :
				 strerror(-err));
			b->err = err;
			n_bad++;
			continue;
		}
		e = grow((void **)&v, n, &cap, sizeof(*v));
		if (!e) {
			r = -ENOMEM;
			goto out;
		}
		*e = in;
		memcpy(e->pci_addr, de->d_name, strlen(de->d_name) + 1);
		n++;
	}
	if (errno)
		r = -errno;
out:
	closedir(d);
	if (r < 0) {
		free(v);
		free(bad);
		return r;
	}
	*ret_intents = v;
	*ret_n = n;
	*ret_bad = bad;
	*ret_n_bad = n_bad;
	return 0;
}
