/* SPDX-License-Identifier: MIT */
/* Parsing a command's arguments against its table entry, and the ways a command ends:
 * usage errors (2), failures that name their object once (1). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "client/vfpoolctl/cmds.h"
#include "client/vfpoolctl/format_text.h"
#include "shm/control_proto.h"

#define OPT_BASE 256 /* getopt_long values of the command's options: OPT_BASE + index */

const char *ctl_opt(const struct ctl *c, const char *name)
{
	for (int i = 0; i < CTL_OPTS_MAX && c->cmd->opts[i].name; i++)
		if (strcmp(c->cmd->opts[i].name, name) == 0)
			return c->opt[i];
	return NULL;
}

int ctl_usage(const struct ctl *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vfpoolctl %s: ", c->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'vfpoolctl %s --help'.\n", c->name);
	return CTL_EXIT_USAGE;
}

static void say(const struct ctl *c, const char *msg)
{
	char buf[1024];

	fprintf(stderr, "vfpoolctl %s: %s\n", c->name, ctl_text(buf, sizeof(buf), msg));
}

int ctl_warn(const struct ctl *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	say(c, msg);
	return CTL_EXIT_FAIL;
}

static int fail_text(const struct ctl *c, int status, const char *msg)
{
	say(c, msg);
	if (c->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "status", json_object_new_int(status));
		json_object_object_add(o, "message", ctl_json_string(msg));
		ctl_json_print(stdout, o);
	}
	return CTL_EXIT_FAIL;
}

int ctl_fail(const struct ctl *c, int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return fail_text(c, status, msg);
}

int ctl_fail_why(const struct ctl *c, int err, const char *object, const char *why)
{
	size_t n = strlen(object);

	if (!why || !*why)
		return ctl_fail(c, err, "%s: %s", object, vfpool_strerror(err));
	/* the daemon's reason usually names the object itself: say it once */
	if (strncmp(why, object, n) == 0 && why[n] == ':')
		return fail_text(c, err, why);
	return ctl_fail(c, err, "%s: %s", object, why);
}

int ctl_connect(const struct ctl *c, struct vfpool **ret_h)
{
	int r = vfpool_connect(c->run_dir, NULL, ret_h);

	return r ? ctl_connect_failed(c, r) : 0;
}

int ctl_connect_failed(const struct ctl *c, int r)
{
	if (r == -ECONNREFUSED)
		return ctl_fail(c, r, "no vfpoold listening at %s/%s", c->run_dir, VFPOOL_CTL_SOCKET);
	if (r == -EACCES)
		return ctl_fail(c, r, "%s/%s: permission denied (the daemon's --socket-group may "
				"connect)", c->run_dir, VFPOOL_CTL_SOCKET);
	return ctl_fail(c, r, "%s/%s: %s", c->run_dir, VFPOOL_CTL_SOCKET, vfpool_strerror(r));
}

int ctl_check_id(const struct ctl *c, const char *field, const char *s, size_t len)
{
	size_t n = strlen(s);
	char buf[80];

	if (n == 0)
		return ctl_usage(c, "%s is empty (1-%zu bytes)", field, len - 1);
	if (n >= len)
		return ctl_usage(c, "%s '%s' is %zu bytes, the limit is %zu", field,
				 ctl_text(buf, sizeof(buf), s), n, len - 1);
	return 0;
}

/* An option's value against its kind; 0, or the usage error's exit code. */
static int check_value(const struct ctl *c, const struct ctl_opt *o, const char *v)
{
	char buf[80];
	unsigned num;

	switch (o->kind) {
	case CTL_OPT_NUMBER:
		if (ctl_parse_uint(v, 0, o->max, &num))
			return ctl_usage(c, "--%s %s: not a number in 0..%u", o->name,
					 ctl_text(buf, sizeof(buf), v), o->max);
		return 0;
	case CTL_OPT_CHOICE:
		for (const char *w = o->arg; *w;) {
			size_t n = strcspn(w, "|");

			if (strlen(v) == n && strncmp(w, v, n) == 0)
				return 0;
			w += n + (w[n] == '|');
		}
		return ctl_usage(c, "--%s %s: not one of %s", o->name,
				 ctl_text(buf, sizeof(buf), v), o->arg);
	default:
		return 0;
	}
}

/* The identifiers among the arguments, by their name in the usage ("VM VNIC NETWORK",
 * "VM..."), against the fields they go into: what the daemon would refuse anyway, said
 * here with the field and its limit. */
static int check_ids(const struct ctl *c)
{
	static const struct { const char *arg, *field; size_t len; } ids[] = {
		{ "VM", "VM id", VFPOOL_VM_ID_LEN },
		{ "VNIC", "vNIC id", VFPOOL_VNIC_ID_LEN },
		{ "NETWORK", "network", VFPOOL_NETWORK_LEN },
	};
	const char *args = c->cmd->args;

	for (int i = 0; i < c->argc; i++) {
		char name[16];
		size_t n;
		int r;

		args += strspn(args, " [");
		n = strcspn(args, " []");
		snprintf(name, sizeof(name), "%.*s", (int)n, args);
		for (size_t k = 0; k < sizeof(ids) / sizeof(ids[0]); k++) {
			if (strncmp(name, ids[k].arg, strlen(ids[k].arg)) != 0 ||
			    (name[strlen(ids[k].arg)] && strcmp(name + strlen(ids[k].arg), "...")))
				continue;
			r = ctl_check_id(c, ids[k].field, c->argv[i], ids[k].len);
			if (r)
				return r;
		}
		/* "VM..." names every argument from here on */
		if (!strstr(name, "..."))
			args += n;
		args += strspn(args, "]");
	}
	return 0;
}

/* "--bogus", "--all=1", "-x": what getopt_long refused, as the user typed it. */
static int bad_option(const struct ctl *c, const char *arg)
{
	char buf[80];
	int n = (int)strcspn(arg, "=");

	if (optopt >= OPT_BASE)
		return ctl_usage(c, "option --%s takes no value", c->cmd->opts[optopt - OPT_BASE].name);
	if (optopt == 'j' || optopt == 'h')
		return ctl_usage(c, "option %.*s takes no value", n, arg);
	if (optopt)
		return ctl_usage(c, "unknown option -%c", optopt);
	return ctl_usage(c, "unknown option %.*s", n, ctl_text(buf, sizeof(buf), arg));
}

int ctl_run_command(struct ctl *c, int argc, char **argv)
{
	const struct ctl_cmd *cmd = c->cmd;
	struct option lo[CTL_OPTS_MAX + 3];
	unsigned n_pos;
	int n = 0, o, r;

	for (int i = 0; i < CTL_OPTS_MAX && cmd->opts[i].name; i++)
		lo[n++] = (struct option){ cmd->opts[i].name,
					   cmd->opts[i].arg ? required_argument : no_argument, NULL,
					   OPT_BASE + i };
	lo[n++] = (struct option){ "json", no_argument, NULL, 'j' };
	lo[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[n] = (struct option){ NULL, 0, NULL, 0 };
	optind = 0; /* glibc: start over (a new argv) */
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		if (o == 'h') {
			ctl_print_cmd_help(stdout, cmd);
			return fflush(stdout) ? CTL_EXIT_FAIL : CTL_EXIT_OK;
		} else if (o == 'j') {
			c->json = true;
		} else if (o >= OPT_BASE) {
			const struct ctl_opt *opt = &cmd->opts[o - OPT_BASE];

			if (c->opt[o - OPT_BASE])
				return ctl_usage(c, "option --%s given twice", opt->name);
			r = optarg ? check_value(c, opt, optarg) : 0;
			if (r)
				return r;
			c->opt[o - OPT_BASE] = optarg ? optarg : "";
		} else if (o == ':') {
			return ctl_usage(c, "option %s needs a value", argv[optind - 1]);
		} else {
			return bad_option(c, argv[optind - 1]);
		}
	}
	c->argc = argc - optind;
	c->argv = argv + optind;
	n_pos = (unsigned)c->argc;
	if (n_pos < cmd->min_args)
		return ctl_usage(c, "missing %s (usage: vfpoolctl %s %s)",
				 n_pos == 0 ? "arguments" : "an argument", c->name, cmd->args);
	if (n_pos > cmd->max_args) {
		char buf[80];

		return ctl_usage(c, "unexpected argument '%s'",
				 ctl_text(buf, sizeof(buf), c->argv[cmd->max_args]));
	}
	for (int i = 0; i < CTL_OPTS_MAX && cmd->opts[i].name; i++)
		if (cmd->opts[i].required && !c->opt[i])
			return ctl_usage(c, "--%s %s is required", cmd->opts[i].name, cmd->opts[i].arg);
	r = check_ids(c);
	return r ? r : cmd->run(c);
}

int cmd_help(struct ctl *c)
{
	const struct ctl_cmd *found = NULL;

	if (c->argc == 0) {
		if (c->json)
			return ctl_json_print(stdout, ctl_help_json()) ? CTL_EXIT_FAIL : CTL_EXIT_OK;
		ctl_print_help(stdout);
		return CTL_EXIT_OK;
	}
	for (const struct ctl_cmd *cmd = ctl_commands; cmd->words[0] && !found; cmd++) {
		int w = 0;

		while (w < 3 && cmd->words[w] && w < c->argc && strcmp(cmd->words[w], c->argv[w]) == 0)
			w++;
		if (w == c->argc && (w == 3 || !cmd->words[w]))
			found = cmd;
	}
	if (!found)
		return ctl_usage(c, "no command '%s%s%s'", c->argv[0], c->argc > 1 ? " " : "",
				 c->argc > 1 ? c->argv[1] : "");
	ctl_print_cmd_help(stdout, found);
	return CTL_EXIT_OK;
}
