/* SPDX-License-Identifier: MIT */
/* vfpoolctl: the operator's tool. Reads the daemon's snapshot; asks it for changes. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "client/vfpoolctl/cmds.h"
#include "client/vfpoolctl/format_text.h"

#ifndef VFPOOL_VERSION
#define VFPOOL_VERSION "unknown"
#endif

/* How many of argv's words name cmd (0 when they do not). */
static int words_match(const struct ctl_cmd *cmd, int argc, char **argv)
{
	int n = 0;

	while (n < 3 && cmd->words[n]) {
		if (n >= argc || strcmp(cmd->words[n], argv[n]) != 0)
			return 0;
		n++;
	}
	return n;
}

static const struct ctl_cmd *find_command(int argc, char **argv, int *ret_words)
{
	const struct ctl_cmd *best = NULL;
	int best_n = 0;

	for (const struct ctl_cmd *cmd = ctl_commands; cmd->words[0]; cmd++) {
		int n = words_match(cmd, argc, argv);

		if (n > best_n) {
			best = cmd;
			best_n = n;
		}
	}
	*ret_words = best_n;
	return best;
}

/* "vfpoolctl pf --help", "vfpoolctl pf frobnicate": the commands that start with argv[0],
 * narrowed by argv[1] when some of them go on with it, printed on f (NULL: counted only).
 * Returns how many. */
static unsigned print_family(FILE *f, int argc, char **argv)
{
	bool narrow = false;
	unsigned n = 0;

	for (const struct ctl_cmd *cmd = ctl_commands; cmd->words[0] && argc > 1; cmd++)
		narrow |= strcmp(cmd->words[0], argv[0]) == 0 && cmd->words[1] &&
			  strcmp(cmd->words[1], argv[1]) == 0;
	for (const struct ctl_cmd *cmd = ctl_commands; cmd->words[0]; cmd++) {
		if (strcmp(cmd->words[0], argv[0]) != 0 ||
		    (narrow && (!cmd->words[1] || strcmp(cmd->words[1], argv[1]) != 0)))
			continue;
		if (f)
			fprintf(f, "  vfpoolctl %s%s%s%s%s%s%s\n", cmd->words[0],
				cmd->words[1] ? " " : "", cmd->words[1] ? cmd->words[1] : "",
				cmd->words[2] ? " " : "", cmd->words[2] ? cmd->words[2] : "",
				cmd->args[0] ? " " : "", cmd->args);
		n++;
	}
	return n;
}

static int unknown_command(int argc, char **argv)
{
	bool help = argc > 1 && (strcmp(argv[argc - 1], "--help") == 0 ||
				 strcmp(argv[argc - 1], "-h") == 0);
	char what[96] = "";

	for (int i = 0; i < argc && i < 3 && argv[i][0] != '-'; i++)
		snprintf(what + strlen(what), sizeof(what) - strlen(what), "%s%.24s", i ? " " : "",
			 argv[i]);
	if (help && print_family(stdout, argc, argv))
		return CTL_EXIT_OK;
	if (argc == 1 && print_family(NULL, argc, argv))
		fprintf(stderr, "vfpoolctl: '%s' needs more words, one of:\n", what);
	else if (what[0])
		fprintf(stderr, "vfpoolctl: unknown command '%s'\n", what);
	else
		fprintf(stderr, "vfpoolctl: unknown option %s\n", argv[0]);
	if (!print_family(stderr, argc, argv))
		fprintf(stderr, "Try 'vfpoolctl --help'.\n");
	return CTL_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	static const struct option global[] = {
		{ "run-dir", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl c = { .run_dir = getenv(VFPOOL_RUN_DIR_ENV) };
	bool help = false, version = false;
	const struct ctl_cmd *cmd;
	int o, n;

	if (!c.run_dir || !*c.run_dir)
		c.run_dir = VFPOOL_DEFAULT_RUN_DIR;
	opterr = 0;
	/* "+": the first word that is not an option is the command; the rest is its own */
	while ((o = getopt_long(argc, argv, "+:hV", global, NULL)) != -1) {
		switch (o) {
		case 'r':
			if (!*optarg) {
				fprintf(stderr, "vfpoolctl: --run-dir: empty\n");
				return CTL_EXIT_USAGE;
			}
			c.run_dir = optarg;
			break;
		case 'j':
			c.json = true;
			break;
		case 'h':
			help = true;
			break;
		case 'V':
			version = true;
			break;
		case ':':
			fprintf(stderr, "vfpoolctl: option %s needs a value\n", argv[optind - 1]);
			return CTL_EXIT_USAGE;
		default:
			if (optopt && optopt != 'r' && optopt != 'j')
				fprintf(stderr, "vfpoolctl: unknown option -%c\n", optopt);
			else if (optopt)
				fprintf(stderr, "vfpoolctl: option %.*s takes no value\n",
					(int)strcspn(argv[optind - 1], "="), argv[optind - 1]);
			else
				fprintf(stderr, "vfpoolctl: unknown option %.*s\n",
					(int)strcspn(argv[optind - 1], "="), argv[optind - 1]);
			fprintf(stderr, "Try 'vfpoolctl --help'.\n");
			return CTL_EXIT_USAGE;
		}
	}
	if (version) {
		if (c.json) {
			struct json_object *v = json_object_new_object();

			json_object_object_add(v, "version", json_object_new_string(VFPOOL_VERSION));
			return ctl_json_print(stdout, v) ? CTL_EXIT_FAIL : CTL_EXIT_OK;
		}
		printf("vfpoolctl %s\n", VFPOOL_VERSION);
		return CTL_EXIT_OK;
	}
	if (help) {
		if (c.json)
			return ctl_json_print(stdout, ctl_help_json()) ? CTL_EXIT_FAIL : CTL_EXIT_OK;
		ctl_print_help(stdout);
		return fflush(stdout) ? CTL_EXIT_FAIL : CTL_EXIT_OK;
	}
	if (optind >= argc) {
		fprintf(stderr, "vfpoolctl: no command\nTry 'vfpoolctl --help'.\n");
		return CTL_EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	cmd = find_command(argc, argv, &n);
	if (!cmd)
		return unknown_command(argc, argv);
	c.cmd = cmd;
	for (int w = 0; w < n; w++)
		snprintf(c.name + strlen(c.name), sizeof(c.name) - strlen(c.name), "%s%s",
			 w ? " " : "", cmd->words[w]);
	/* the command's own options: getopt_long again, argv[0] standing for the command */
	return ctl_run_command(&c, argc - n + 1, argv + n - 1);
}
