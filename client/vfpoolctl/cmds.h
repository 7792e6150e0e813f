/* SPDX-License-Identifier: MIT */
/*
 * vfpoolctl's commands: one table (commands.c) says what each takes, main.c parses an
 * invocation against it with getopt_long, and a command's run function finds its checked
 * arguments in struct ctl. The same table prints --help and `help`, and the man page
 * lists what it says (tests/test_man.c compares them).
 */
#ifndef VFPOOL_VFPOOLCTL_CMDS_H
#define VFPOOL_VFPOOLCTL_CMDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vfpool/vfpool.h"

struct json_object;

#define VFPOOL_CTL_ARGS_MAX 64

/* Exit codes, everywhere (vfpoolctl(8), --help): 0 success, 1 refused or failed, 2 usage
 * error. doctor has its own scale past these (doctor_cmd.c). */
enum { CTL_EXIT_OK = 0, CTL_EXIT_FAIL = 1, CTL_EXIT_USAGE = 2 };

enum ctl_group {
	CTL_GROUP_INSPECT,
	CTL_GROUP_POLICY,
	CTL_GROUP_HOST,
	CTL_GROUP_LEASES,
	CTL_GROUP_OTHER,
	CTL_GROUP_NR,
};

/* What an option's value must be; checked before the command runs (a usage error). */
enum ctl_opt_kind {
	CTL_OPT_FLAG,    /* no value */
	CTL_OPT_TEXT,    /* any value */
	CTL_OPT_NUMBER,  /* decimal digits, 0..max */
	CTL_OPT_CHOICE,  /* one of the words of arg ("on|off") */
};

struct ctl_opt {
	const char *name; /* "mac" for --mac */
	const char *arg;  /* the value's name ("MAC", "on|off"), NULL for a flag */
	const char *help;
	enum ctl_opt_kind kind;
	unsigned max;     /* CTL_OPT_NUMBER */
	bool required;
};

#define CTL_OPTS_MAX 16

struct ctl;

struct ctl_cmd {
	const char *words[3];      /* { "pf", "show" } */
	const char *args;          /* positional arguments, as usage shows them */
	unsigned min_args, max_args;
	struct ctl_opt opts[CTL_OPTS_MAX]; /* the command's own; --json and --help are everyone's */
	const char *summary;
	enum ctl_group group;
	bool admin;                /* the daemon refuses it unless root or the admin group */
	int (*run)(struct ctl *c);
};

/* One invocation, parsed. */
struct ctl {
	const char *run_dir;
	bool json;
	const struct ctl_cmd *cmd;
	char name[48];             /* "pf show": how messages name the command */
	int argc;                  /* positional arguments */
	char **argv;
	const char *opt[CTL_OPTS_MAX]; /* by index in cmd->opts: the value, "" for a flag given,
					* NULL when absent */
};

extern const struct ctl_cmd ctl_commands[];
extern const char *const ctl_group_names[CTL_GROUP_NR];

/* Parses the command's options and arguments (argv[0] is its last word), then runs it. */
int ctl_run_command(struct ctl *c, int argc, char **argv);
/* The option's value (NULL when not given); name must be one of the command's. */
const char *ctl_opt(const struct ctl *c, const char *name);
/* Prints "vfpoolctl CMD: <message>" and the hint to --help on stderr; returns 2. */
__attribute__((format(printf, 2, 3)))
int ctl_usage(const struct ctl *c, const char *fmt, ...);
/* Prints "vfpoolctl CMD: <message>" on stderr and, with --json, {"status", "message"} on
 * stdout; returns 1. status is the negative errno (or 0 when none applies). */
__attribute__((format(printf, 3, 4)))
int ctl_fail(const struct ctl *c, int status, const char *fmt, ...);
/* Prints "vfpoolctl CMD: <message>" on stderr only (the command's output, JSON or not,
 * is its own); returns 1. */
__attribute__((format(printf, 2, 3)))
int ctl_warn(const struct ctl *c, const char *fmt, ...);
/* A failure the daemon explained: why names its object unless it is empty; object
 * prefixes it once ("vm1/nic0: ens1f0: 0 free of 4 VFs", never "vm1/nic0: vm1/nic0: ").
 * Without why, the library's meaning of err. Returns 1. */
int ctl_fail_why(const struct ctl *c, int err, const char *object, const char *why);
/* Connects to the daemon; on failure says so ("no vfpoold listening at <socket>") and
 * returns the exit code (nonzero). */
int ctl_connect(const struct ctl *c, struct vfpool **ret_h);
/* The snapshot a view shows (view_snapshot.c): 0, or says why not and returns the exit
 * code (nonzero). When vfpoold is not running it says so ("vfpoolctl CMD: vfpoold is not
 * running (last state from T); process 123 is gone") and fails: a dead daemon's state is
 * never shown as current. */
int ctl_snapshot(const struct ctl *c, struct vfpool_snapshot **ret_s);
/* When the daemon that wrote s is not running (at its last take or refresh), says so as
 * above and returns 1; 0 while it runs. The snapshot ctl_snapshot gives keeps a dead
 * daemon's last state on refresh, so a watch asks this after each one. */
int ctl_not_running(const struct ctl *c, const struct vfpool_snapshot *s);
/* The words of that message into buf ("vfpoold is not running (last state from T);
 * process 123 is gone"): true when the daemon is not running, false (buf untouched) while
 * it runs. */
bool ctl_daemon_down(const struct vfpool_snapshot *s, char *buf, size_t len);
/* Local time of a CLOCK_REALTIME ns value, "2026-01-31 12:00:00 UTC". */
void ctl_format_time(char *buf, size_t len, uint64_t ns);
/* The help of one command (--help) and of all (vfpoolctl --help, help). */
void ctl_print_cmd_help(FILE *f, const struct ctl_cmd *cmd);
void ctl_print_help(FILE *f);
struct json_object *ctl_help_json(void);

/* Strict numbers: decimal digits only, in [min, max]; -EINVAL otherwise. */
int ctl_parse_uint(const char *s, unsigned min, unsigned max, unsigned *ret_value);
int ctl_parse_u64(const char *s, uint64_t *ret_value);
/* "52:54:00:aa:bb:01"; -EINVAL otherwise. */
int ctl_parse_mac(const char *s, uint8_t mac[6]);
/* An identifier for the daemon: 1 to len - 1 bytes; a usage error naming the field and
 * the limit otherwise (returns 2), 0 when fine. */
int ctl_check_id(const struct ctl *c, const char *field, const char *s, size_t len);

int cmd_snapshot(struct ctl *c);
int cmd_alloc(struct ctl *c);
int cmd_release(struct ctl *c);
int cmd_watch(struct ctl *c);
int cmd_pf_list(struct ctl *c);
int cmd_pf_show(struct ctl *c);
int cmd_pf_select_list(struct ctl *c);
int cmd_lease_list(struct ctl *c);
int cmd_metrics(struct ctl *c);
int cmd_capacity(struct ctl *c);
int cmd_doctor(struct ctl *c);
int cmd_help(struct ctl *c);
/* A command the daemon implements: the words and the parsed options are sent to it, its
 * answer printed (wrapped as {"status", "message"} with --json). */
int cmd_daemon(struct ctl *c);
/* Sends words to the daemon: 0 with its status and text (free() it), or the negative
 * errno of the connection when it could not be asked (nothing printed). */
int ctl_daemon_ask(const struct ctl *c, const char *const *words, int n, int *ret_status,
		   char **ret_text);
/* Says why the daemon could not be reached (ctl_connect's words); returns 1. */
int ctl_connect_failed(const struct ctl *c, int err);

/* Shared by the snapshot views (snapshot_cmd.c). */
void snapshot_print_table(FILE *f, const struct vfpool_snapshot *s, bool all_vfs);
void snapshot_print_pf_table(FILE *f, const struct vfpool_snapshot *s);
struct json_object *snapshot_pf_json(unsigned index, const struct vfpool_pf_info *p);
struct json_object *snapshot_vf_json(const struct vfpool_vf_info *v);
const char *snapshot_cfg_name(unsigned cfg_state);

#endif
