/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/libvfpool/internal.h"
#include "shm/control_proto.h"

static int send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int recv_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = recv(fd, p, len, 0);

		if (n == 0)
			return -ECONNRESET;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

VFPOOL_API int vfpool_command(struct vfpool *h, int argc, const char *const *argv,
			      char **ret_output)
{
	struct vfpool_ctl_frame f = { .magic = VFPOOL_CTL_MAGIC, .version = VFPOOL_CTL_VERSION,
				      .type = VFPOOL_CTL_COMMAND };
	size_t len = 0, off;
	uint8_t *buf;
	char *out;
	int r;

	if (!h || argc <= 0 || !argv || (unsigned)argc > VFPOOL_CTL_MAX_ARGS)
		return -EINVAL;
	for (int i = 0; i < argc; i++) {
		if (!argv[i])
			return -EINVAL;
		len += strlen(argv[i]) + 1;
	}
	if (len > VFPOOL_CTL_MAX_COMMAND)
		return -E2BIG;
	f.seq = ++h->cmd_seq;
	f.len = (uint32_t)len;
	buf = malloc(sizeof(f) + len);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, &f, sizeof(f));
	off = sizeof(f);
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]) + 1;

		memcpy(buf + off, argv[i], n);
		off += n;
	}
	r = send_all(h->sock, buf, off);
	free(buf);
	if (r)
		return r;
	r = recv_all(h->sock, &f, sizeof(f));
	if (r)
		return r;
	if (f.magic != VFPOOL_CTL_MAGIC || f.type != VFPOOL_CTL_REPLY || f.seq != h->cmd_seq ||
	    f.len == 0 || f.len > VFPOOL_CTL_MAX_REPLY)
		return -EPROTO;
	out = malloc(f.len);
	if (!out)
		return -ENOMEM;
	r = recv_all(h->sock, out, f.len);
	if (r) {
		free(out);
		return r;
	}
	out[f.len - 1] = '\0';
	if (ret_output)
		*ret_output = out;
	else
		free(out);
	return f.status;
}

VFPOOL_API int vfpool_vm_migrate_check(struct vfpool *h, const char *vm_id, char *ret_why,
				       size_t why_len)
{
	const char *argv[] = { "vm", "migrate-check", vm_id };
	char *out = NULL;
	int r;

	if (!h || !vm_id || !*vm_id)
		return -EINVAL;
	r = vfpool_command(h, 3, argv, &out);
	if (r < 0 && out && ret_why && why_len) {
		strncpy(ret_why, out, why_len - 1);
		ret_why[why_len - 1] = '\0';
	}
	free(out);
	return r < 0 ? r : 0;
}
