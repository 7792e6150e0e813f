/* SPDX-License-Identifier: MIT */
/*
 * Commands over the control socket: vfpoolctl and launchers send argv, the daemon answers
 * with a status and text. Each feature adds its own table (see ctl_command_tables in
 * core/ctl_command.c); handlers may answer later (a numvfs change takes seconds), as long
 * as they call ctl_reply exactly once.
 */
#ifndef VFPOOL_CORE_CTL_COMMAND_H
#define VFPOOL_CORE_CTL_COMMAND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct daemon;
struct conn;

struct ctl_request {
	struct daemon *d;
	struct conn *conn;
	uint32_t conn_gen; /* the reply is dropped if the connection was reused */
	uint32_t seq;
	int argc;          /* the arguments after the command's own words */
	char **argv;       /* valid until ctl_reply; point into payload */
	char *payload;     /* the request's own copy of the words */
	struct ucred cred;
	bool admin;        /* root or a member of the admin group */
	bool json;         /* "--json" was among the arguments (and removed from argv) */
};

struct ctl_command {
	const char *words[3];  /* e.g. { "pf", "set", NULL } */
	bool admin_only;       /* changes configuration or others' leases */
	void (*run)(struct ctl_request *req);
	const char *usage;
};

/* Sends the reply (status >= 0 or -errno, printf-style text) and frees req. */
__attribute__((format(printf, 3, 4)))
void ctl_reply(struct ctl_request *req, int status, const char *fmt, ...);
/* Same with a prepared buffer that the reply takes over (malloc'd, NUL-terminated). */
void ctl_reply_take(struct ctl_request *req, int status, char *text);

/* Frees req without answering: only when the daemon shuts down with the command pending. */
void ctl_request_drop(struct ctl_request *req);

/* Dispatches a received command frame's payload; replies on error. */
void ctl_dispatch(struct daemon *d, struct conn *c, uint32_t seq, char *payload, uint32_t len);

#endif
