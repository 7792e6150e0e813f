/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctl_command.h"
#include "core/daemon_internal.h"
#include "core/lease/lease_cmd.h"
#include "core/log.h"
#include "core/policy/policy_cmd.h"
#include "core/numvfs/numvfs_cmd.h"

static void cmd_ping(struct ctl_request *req)
{
	ctl_reply(req, 0, "pong");
}

static const struct ctl_command core_commands[] = {
	{ { "ping" }, false, cmd_ping, "ping: check that the daemon answers" },
	{ { NULL } },
};

/* Every feature's table. A feature adds its own here; order is the order of `help`. */
static const struct ctl_command *const ctl_command_tables[] = {
	core_commands,
	policy_commands,
	lease_commands,
	numvfs_commands,
};

static void reply_frame(struct ctl_request *req, int status, const char *text)
{
	struct daemon *d = req->d;
	struct conn *c = req->conn;
	size_t tlen = text ? strlen(text) + 1 : 1;
	struct vfpool_ctl_frame f = { .magic = VFPOOL_CTL_MAGIC, .version = VFPOOL_CTL_VERSION,
				      .type = VFPOOL_CTL_REPLY, .seq = req->seq, .status = status };
	uint8_t *buf;

	if (c->gen != req->conn_gen || c->state != CONN_ACTIVE)
		return; /* the asker is gone; the command's effect stands */
	if (tlen > VFPOOL_CTL_MAX_REPLY) {
		text = "reply too large";
		tlen = strlen(text) + 1;
		f.status = -E2BIG;
	}
	f.len = (uint32_t)tlen;
	buf = malloc(sizeof(f) + tlen);
	if (!buf) {
		conn_close(d, c, "out of memory for a reply");
		return;
	}
	memcpy(buf, &f, sizeof(f));
	if (text)
		memcpy(buf + sizeof(f), text, tlen);
	else
		buf[sizeof(f)] = '\0';
	if (conn_send_reply(d, c, buf, sizeof(f) + tlen) < 0)
		conn_close(d, c, "reply not queued");
	free(buf);
}

void ctl_reply_take(struct ctl_request *req, int status, char *text)
{
	reply_frame(req, status, text);
	free(text);
	free(req->argv);
	free(req->payload);
	free(req);
}

void ctl_request_drop(struct ctl_request *req)
{
	free(req->argv);
	free(req->payload);
	free(req);
}

void ctl_reply(struct ctl_request *req, int status, const char *fmt, ...)
{
	char *text = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	ctl_reply_take(req, status, text);
}

static size_t n_words(const struct ctl_command *cmd)
{
	size_t n = 0;

	while (n < 3 && cmd->words[n])
		n++;
	return n;
}

static const struct ctl_command *lookup(int argc, char **argv)
{
	const struct ctl_command *best = NULL;
	size_t best_n = 0;

	for (size_t t = 0; t < sizeof(ctl_command_tables) / sizeof(ctl_command_tables[0]); t++) {
		for (const struct ctl_command *cmd = ctl_command_tables[t]; cmd->words[0]; cmd++) {
			size_t n = n_words(cmd), i;

			if ((size_t)argc < n)
				continue;
			for (i = 0; i < n && strcmp(cmd->words[i], argv[i]) == 0; i++)
				;
			if (i == n && n > best_n) {
				best = cmd;
				best_n = n;
			}
		}
	}
	return best;
}

static char *help_text(void)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	for (size_t t = 0; t < sizeof(ctl_command_tables) / sizeof(ctl_command_tables[0]); t++)
		for (const struct ctl_command *cmd = ctl_command_tables[t]; cmd->words[0]; cmd++)
			fprintf(f, "%s%s\n", cmd->usage, cmd->admin_only ? " [admin]" : "");
	fclose(f);
	return out;
}

void ctl_dispatch(struct daemon *d, struct conn *c, uint32_t seq, char *payload, uint32_t len)
{
	struct ctl_request *req = calloc(1, sizeof(*req));
	const struct ctl_command *cmd;
	char **argv;
	int argc = 0;

	if (!req) {
		conn_close(d, c, "out of memory for a command");
		return;
	}
	req->d = d;
	req->conn = c;
	req->conn_gen = c->gen;
	req->seq = seq;
	req->cred = c->cred;
	req->admin = c->admin;
	argv = calloc(VFPOOL_CTL_MAX_ARGS + 1, sizeof(*argv));
	req->argv = argv;
	if (!argv) {
		ctl_reply(req, -ENOMEM, "out of memory");
		return;
	}
	/* the payload is the peer's: every word must end inside it */
	if (len == 0 || payload[len - 1] != '\0') {
		ctl_reply(req, -EINVAL, "command: arguments not NUL-terminated");
		return;
	}
	/* the request's own copy: an asynchronous handler may outlive the connection and
	 * its input buffer */
	req->payload = malloc(len);
	if (!req->payload) {
		ctl_reply(req, -ENOMEM, "out of memory");
		return;
	}
	memcpy(req->payload, payload, len);
	payload = req->payload;
	for (uint32_t off = 0; off < len; off += (uint32_t)strlen(payload + off) + 1) {
		if (argc == VFPOOL_CTL_MAX_ARGS) {
			ctl_reply(req, -E2BIG, "command: more than %u arguments", VFPOOL_CTL_MAX_ARGS);
			return;
		}
		if (strcmp(payload + off, "--json") == 0)
			req->json = true;
		else
			argv[argc++] = payload + off;
	}
	if (argc == 0 || strcmp(argv[0], "help") == 0) {
		ctl_reply_take(req, 0, help_text());
		return;
	}
	cmd = lookup(argc, argv);
	if (!cmd) {
		ctl_reply(req, -EOPNOTSUPP, "%s: unknown command (try help)", argv[0]);
		return;
	}
	if (cmd->admin_only && !req->admin) {
		log_warn("command_refused", "client=%u uid=%u command=%s reason=\"not an admin\"",
			 c->id, (unsigned)c->cred.uid, argv[0]);
		ctl_reply(req, -EPERM, "%s: needs root or the admin group (uid %u is neither)",
			  argv[0], (unsigned)c->cred.uid);
		return;
	}
	req->argc = argc - (int)n_words(cmd);
	/* the words stay addressable: argv[-n] would be the command's own words */
	memmove(argv, argv + n_words(cmd), (size_t)req->argc * sizeof(*argv));
	argv[req->argc] = NULL;
	cmd->run(req);
}
