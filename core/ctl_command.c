/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/ctl_command.h"
#include "core/log.h"
#include "shm/control_proto.h"

static void cmd_ping(struct ctl_request *req)
{
	ctl_reply(req, 0, "pong");
}

const struct ctl_command ctl_core_commands[] = {
	{ { "ping" }, false, cmd_ping, "ping: check that the daemon answers" },
	{ { NULL } },
};

int ctl_register(struct ctl_dispatcher *disp, const struct ctl_command *commands, void *ctx)
{
	if (disp->n_tables == CTL_MAX_TABLES)
		return -ENOSPC;
	disp->tables[disp->n_tables].commands = commands;
	disp->tables[disp->n_tables].ctx = ctx;
	disp->n_tables++;
	return 0;
}

static void reply_free(struct ctl_request *req, int status, const char *text)
{
	req->sink->reply(req->sink, req, status, text);
	free(req->argv);
	free(req->payload);
	free(req);
}

void ctl_reply_data(struct ctl_request *req, int status, struct json_object *data, char *text)
{
	struct json_object *doc;
	const char *s;

	if (!req->json) {
		json_object_put(data);
		reply_free(req, status, text ? text : "");
		free(text);
		return;
	}
	doc = json_object_new_object();
	json_object_object_add(doc, "status", json_object_new_int(status));
	json_object_object_add(doc, "message", json_object_new_string(text ? text : ""));
	json_object_object_add(doc, "data", data);
	s = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
					   JSON_C_TO_STRING_NOSLASHESCAPE);
	/* json-c answers NULL only when out of memory: the status still goes */
	reply_free(req, status, s ? s : "");
	json_object_put(doc);
	free(text);
}

void ctl_reply_take(struct ctl_request *req, int status, char *text)
{
	ctl_reply_data(req, status, NULL, text);
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

void ctl_reply_usage(struct ctl_request *req, const char *usage)
{
	ctl_reply(req, -VFPOOL_CTL_EUSAGE, "usage: %s", usage);
}

static size_t n_words(const struct ctl_command *cmd)
{
	size_t n = 0;

	while (n < 3 && cmd->words[n])
		n++;
	return n;
}

/* The command whose words match the most leading arguments, and its table. */
static const struct ctl_command *lookup(const struct ctl_dispatcher *disp, int argc,
					char **argv, void **ret_ctx)
{
	const struct ctl_command *best = NULL;
	size_t best_n = 0;

	for (unsigned t = 0; t < disp->n_tables; t++) {
		const struct ctl_table *tab = &disp->tables[t];

		for (const struct ctl_command *cmd = tab->commands; cmd->words[0]; cmd++) {
			size_t n = n_words(cmd), i;

			if ((size_t)argc < n)
				continue;
			for (i = 0; i < n && strcmp(cmd->words[i], argv[i]) == 0; i++)
				;
			if (i == n && n > best_n) {
				best = cmd;
				best_n = n;
				*ret_ctx = tab->ctx;
			}
		}
	}
	return best;
}

static char *help_text(const struct ctl_dispatcher *disp)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	for (unsigned t = 0; t < disp->n_tables; t++)
		for (const struct ctl_command *cmd = disp->tables[t].commands; cmd->words[0]; cmd++)
			fprintf(f, "%s%s\n", cmd->usage, cmd->admin_only ? " [admin]" : "");
	fclose(f);
	return out;
}

/* [{"usage": "...", "admin": bool}], in the order help lists them */
static struct json_object *help_data(const struct ctl_dispatcher *disp)
{
	struct json_object *list = json_object_new_array();

	for (unsigned t = 0; t < disp->n_tables; t++) {
		for (const struct ctl_command *cmd = disp->tables[t].commands; cmd->words[0]; cmd++) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "usage", json_object_new_string(cmd->usage));
			json_object_object_add(o, "admin", json_object_new_boolean(cmd->admin_only));
			json_object_array_add(list, o);
		}
	}
	return list;
}

int ctl_dispatch(const struct ctl_dispatcher *disp, const struct ctl_peer *peer, uint32_t seq,
		 const char *payload, uint32_t len)
{
	struct ctl_request *req = calloc(1, sizeof(*req));
	const struct ctl_command *cmd;
	char **argv;
	int argc = 0;

	if (!req)
		return -ENOMEM;
	req->sink = peer->sink;
	req->sink_gen = peer->sink_gen;
	req->seq = seq;
	req->cred = peer->cred;
	req->admin = peer->admin;
	argv = calloc(VFPOOL_CTL_MAX_ARGS + 1, sizeof(*argv));
	req->argv = argv;
	if (!argv) {
		ctl_reply(req, -ENOMEM, "out of memory");
		return 0;
	}
	/* the payload is the peer's: every word must end inside it */
	if (len == 0 || payload[len - 1] != '\0') {
		ctl_reply(req, -EINVAL, "command: arguments not NUL-terminated");
		return 0;
	}
	/* the request's own copy: an asynchronous handler may outlive the connection and
	 * its input buffer */
	req->payload = malloc(len);
	if (!req->payload) {
		ctl_reply(req, -ENOMEM, "out of memory");
		return 0;
	}
	memcpy(req->payload, payload, len);
	for (uint32_t off = 0; off < len; off += (uint32_t)strlen(req->payload + off) + 1) {
		if (argc == VFPOOL_CTL_MAX_ARGS) {
			ctl_reply(req, -E2BIG, "command: more than %u arguments", VFPOOL_CTL_MAX_ARGS);
			return 0;
		}
		if (strcmp(req->payload + off, "--json") == 0)
			req->json = true;
		else
			argv[argc++] = req->payload + off;
	}
	if (argc == 0 || strcmp(argv[0], "help") == 0) {
		ctl_reply_data(req, 0, help_data(disp), help_text(disp));
		return 0;
	}
	cmd = lookup(disp, argc, argv, &req->ctx);
	if (!cmd) {
		ctl_reply(req, -EOPNOTSUPP, "%s: unknown command (try help)", argv[0]);
		return 0;
	}
	if (cmd->admin_only && !req->admin) {
		log_warn("command_refused", "client=%u uid=%u command=%s reason=\"not an admin\"",
			 peer->client_id, (unsigned)peer->cred.uid, argv[0]);
		ctl_reply(req, -EPERM, "%s: needs root or the admin group (uid %u is neither)",
			  argv[0], (unsigned)peer->cred.uid);
		return 0;
	}
	req->argc = argc - (int)n_words(cmd);
	/* the arguments move to the front: argv stays the array free() takes, so the
	 * command's own words are gone from it (handlers never see them) */
	memmove(argv, argv + n_words(cmd), (size_t)req->argc * sizeof(*argv));
	argv[req->argc] = NULL;
	cmd->run(req);
	return 0;
}
