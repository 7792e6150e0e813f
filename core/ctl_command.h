/* SPDX-License-Identifier: MIT */
/*
 * Commands over the control socket: vfpoolctl and launchers send argv, the daemon answers
 * with a status and text. The dispatcher knows no feature: the daemon registers each
 * feature's table with the context its handlers work on (ctl_register), and whoever
 * received the command (a connection) says where its reply goes (struct ctl_reply_sink).
 * Handlers may answer later (a numvfs change takes seconds), as long as they call
 * ctl_reply exactly once.
 */
#ifndef VFPOOL_CORE_CTL_COMMAND_H
#define VFPOOL_CORE_CTL_COMMAND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct ctl_request;

/* Where a request's reply goes, embedded by the side that received the command (like the
 * engine's completion_sink). reply runs once per answered request, req still valid; text
 * is never NULL. The sink decides whether its peer is still there (req->sink_gen). */
struct ctl_reply_sink {
	void (*reply)(struct ctl_reply_sink *sink, const struct ctl_request *req, int status,
		      const char *text);
};

/* Who sent a command, as the receiving side knows it. */
struct ctl_peer {
	struct ctl_reply_sink *sink;
	uint32_t sink_gen;  /* handed back with the reply: the sink's own staleness check */
	uint32_t client_id; /* for the log */
	struct ucred cred;
	bool admin;         /* root or a member of the admin group */
};

struct ctl_request {
	void *ctx;         /* the context the command's table was registered with */
	struct ctl_reply_sink *sink;
	uint32_t sink_gen;
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

/* The daemon's own commands (ping); context: none. */
extern const struct ctl_command ctl_core_commands[];

#define CTL_MAX_TABLES 8

/* The registered tables, in the order `help` lists them. Zeroed: none. */
struct ctl_dispatcher {
	struct ctl_table {
		const struct ctl_command *commands; /* ends with { { NULL } } */
		void *ctx;
	} tables[CTL_MAX_TABLES];
	unsigned n_tables;
};

/* Adds a table; its handlers find ctx in req->ctx. -ENOSPC past CTL_MAX_TABLES. */
int ctl_register(struct ctl_dispatcher *disp, const struct ctl_command *commands, void *ctx);

/* Sends the reply (status >= 0 or -errno, printf-style text) and frees req. */
__attribute__((format(printf, 3, 4)))
void ctl_reply(struct ctl_request *req, int status, const char *fmt, ...);
/* The command's words are wrong: answers -VFPOOL_CTL_EUSAGE with "usage: <usage>" (the
 * client reports a usage error, vfpoolctl exits 2) and frees req. */
void ctl_reply_usage(struct ctl_request *req, const char *usage);
/* Same with a prepared buffer that the reply takes over (malloc'd, NUL-terminated). */
void ctl_reply_take(struct ctl_request *req, int status, char *text);

struct json_object;

/* The reply as data and text: a request that asked --json gets the document
 * {"status": status, "message": text, "data": data} (json-c), any other the text. Takes
 * data (NULL: null) and text (malloc'd, NULL: ""); frees req. Every reply to a --json
 * request is such a document: ctl_reply and ctl_reply_take give it "data": null. */
void ctl_reply_data(struct ctl_request *req, int status, struct json_object *data, char *text);

/* Frees req without answering: only when the daemon shuts down with the command pending. */
void ctl_request_drop(struct ctl_request *req);

/* Dispatches a received command frame's payload (the peer's bytes: copied, then checked)
 * and answers through peer->sink, now or when its handler is done. 0, or -ENOMEM when not
 * even the request could be allocated (nothing was answered). */
int ctl_dispatch(const struct ctl_dispatcher *disp, const struct ctl_peer *peer, uint32_t seq,
		 const char *payload, uint32_t len);

#endif
