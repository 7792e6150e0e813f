/* SPDX-License-Identifier: MIT */
/* Commands the daemon implements: vfpoolctl checks the words against its table, sends them
 * and prints the answer. With --json the daemon is asked for its structured reply,
 * {"status": 0 or -errno, "message": text, "data": the command's data or null}, built
 * from the same data as its text, and that document is printed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "client/vfpoolctl/cmds.h"
#include "client/vfpoolctl/format_text.h"
#include "shm/control_proto.h"

int ctl_daemon_ask(const struct ctl *c, const char *const *words, int n, int *ret_status,
		   char **ret_text)
{
	struct vfpool *h;
	int r;

	*ret_text = NULL;
	r = vfpool_connect(c->run_dir, NULL, &h);
	if (r)
		return r;
	/* the command's own status may be any errno (-EACCES from sysfs, say): it is the
	 * daemon's answer, not the connection's */
	*ret_status = vfpool_command(h, n, words, ret_text);
	vfpool_close(h);
	return 0;
}

/* The daemon's text, one escaped line at a time (it is the peer's: no control bytes). */
static void print_lines(FILE *f, const char *text)
{
	char line[1024], buf[2048];

	while (*text) {
		size_t n = strcspn(text, "\n");

		snprintf(line, sizeof(line), "%.*s", (int)n, text);
		fprintf(f, "%s\n", ctl_text(buf, sizeof(buf), line));
		text += n + (text[n] == '\n');
	}
}

/* The daemon refused the words themselves (VFPOOL_CTL_EUSAGE, or a command it does not
 * know): a usage error here too. */
static bool daemon_usage_error(int status, const char *text)
{
	if (status == -VFPOOL_CTL_EUSAGE)
		return true;
	return status == -EOPNOTSUPP && strstr(text, ": unknown command");
}

/* "pf set: usage: ..." from the daemon, printed after "vfpoolctl pf set: ": once. */
static const char *without_name(const struct ctl *c, const char *text)
{
	size_t n = strlen(c->name);

	if (strncmp(text, c->name, n) == 0 && text[n] == ':' && text[n + 1] == ' ')
		return text + n + 2;
	return text;
}

int cmd_daemon(struct ctl *c)
{
	const char *words[VFPOOL_CTL_ARGS_MAX];
	struct json_object *doc = NULL, *jmsg = NULL;
	char *text = NULL;
	const char *msg;
	int n = 0, r, status;

	for (int w = 0; w < 3 && c->cmd->words[w]; w++)
		words[n++] = c->cmd->words[w];
	for (int i = 0; i < c->argc; i++)
		words[n++] = c->argv[i];
	if (c->json)
		words[n++] = "--json";
	for (int i = 0; i < CTL_OPTS_MAX && c->cmd->opts[i].name; i++) {
		static char flags[CTL_OPTS_MAX][40];

		if (!c->opt[i])
			continue;
		snprintf(flags[i], sizeof(flags[i]), "--%s", c->cmd->opts[i].name);
		words[n++] = flags[i];
		if (c->cmd->opts[i].arg)
			words[n++] = c->opt[i];
	}
	r = ctl_daemon_ask(c, words, n, &status, &text);
	if (r)
		return ctl_connect_failed(c, r);
	r = status;
	msg = text ? text : "";
	/* the structured reply: its message is what a human reads; a daemon that answered
	 * text (an older one) is wrapped as before */
	if (c->json && text)
		doc = json_tokener_parse(text);
	if (doc && (!json_object_is_type(doc, json_type_object) ||
		    !json_object_object_get_ex(doc, "message", &jmsg))) {
		json_object_put(doc);
		doc = NULL;
	}
	if (doc)
		msg = json_object_get_string(jmsg);
	if (r < 0) {
		int exit_code = daemon_usage_error(r, msg) ? CTL_EXIT_USAGE : CTL_EXIT_FAIL;

		if (!*msg)
			msg = vfpool_strerror(r);
		ctl_fail(c, r, "%s", without_name(c, msg));
		json_object_put(doc);
		free(text);
		return exit_code;
	}
	if (doc) {
		r = ctl_json_print(stdout, doc);
	} else if (c->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "status", json_object_new_int(r));
		json_object_object_add(o, "message", ctl_json_string(msg));
		r = ctl_json_print(stdout, o);
	} else {
		print_lines(stdout, msg);
		r = 0;
	}
	free(text);
	return r || fflush(stdout) ? CTL_EXIT_FAIL : CTL_EXIT_OK;
}
