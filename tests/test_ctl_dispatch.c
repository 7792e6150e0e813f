/* SPDX-License-Identifier: MIT */
/* The command dispatcher on its own, without a daemon: tables registered with their
 * contexts, requests answered through the peer's reply sink (now or later), and every
 * refusal before a handler runs. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctl_command.h"
#include "shm/control_proto.h"

#include "core/base/container_of.h"

/* The receiving side's sink: keeps what it was told. */
struct recorder {
	struct ctl_reply_sink sink;
	unsigned replies;
	int status;
	uint32_t seq, sink_gen;
	char text[1024];
};

static void record(struct ctl_reply_sink *sink, const struct ctl_request *req, int status,
		   const char *text)
{
	struct recorder *r = container_of(sink, struct recorder, sink);

	r->replies++;
	r->status = status;
	r->seq = req->seq;
	r->sink_gen = req->sink_gen;
	snprintf(r->text, sizeof(r->text), "%s", text);
}

/* What a handler saw, and a request it kept to answer later. */
static struct {
	unsigned runs;
	void *ctx;
	int argc;
	char argv[4][32];
	bool argv_ends;
	bool json;
	struct ctl_request *kept;
} seen;

static void note(struct ctl_request *req)
{
	seen.runs++;
	seen.ctx = req->ctx;
	seen.argc = req->argc;
	for (int i = 0; i < req->argc && i < 4; i++)
		snprintf(seen.argv[i], sizeof(seen.argv[i]), "%s", req->argv[i]);
	seen.argv_ends = req->argv[req->argc] == NULL;
	seen.json = req->json;
}

static void cmd_answer(struct ctl_request *req)
{
	note(req);
	ctl_reply(req, 7, "ctx=%s args=%d", (const char *)req->ctx, req->argc);
}

static void cmd_later(struct ctl_request *req)
{
	note(req);
	seen.kept = req;
}

static char ctx_a[] = "A", ctx_b[] = "B";

static const struct ctl_command table_a[] = {
	{ { "pf", "set" }, true, cmd_answer, "pf set PF: A's" },
	{ { "later" }, false, cmd_later, "later: answers afterwards" },
	{ { NULL } },
};

static const struct ctl_command table_b[] = {
	{ { "pf" }, false, cmd_answer, "pf ...: B's" },
	{ { "pf", "show" }, false, cmd_answer, "pf show PF: B's" },
	{ { NULL } },
};

static struct ctl_dispatcher disp;
static struct recorder rec;

static void setup(void)
{
	memset(&disp, 0, sizeof(disp));
	memset(&rec, 0, sizeof(rec));
	memset(&seen, 0, sizeof(seen));
	rec.sink.reply = record;
	cr_assert_eq(ctl_register(&disp, ctl_core_commands, NULL), 0);
	cr_assert_eq(ctl_register(&disp, table_a, ctx_a), 0);
	cr_assert_eq(ctl_register(&disp, table_b, ctx_b), 0);
}

TestSuite(ctl_dispatch, .init = setup);

static struct ctl_peer peer_of(bool admin)
{
	return (struct ctl_peer){ .sink = &rec.sink, .sink_gen = 41, .client_id = 3,
				  .cred = { .pid = 1234, .uid = admin ? 0 : 1000, .gid = 1000 },
				  .admin = admin };
}

/* words joined as the wire has them, in a buffer of exactly that size (ASan catches a
 * read past it) */
static int dispatch(bool admin, uint32_t seq, const char *const *words, size_t n)
{
	struct ctl_peer peer = peer_of(admin);
	size_t len = 0, off = 0;
	char *buf;
	int r;

	for (size_t i = 0; i < n; i++)
		len += strlen(words[i]) + 1;
	buf = malloc(len ? len : 1);
	cr_assert(buf);
	for (size_t i = 0; i < n; i++) {
		memcpy(buf + off, words[i], strlen(words[i]) + 1);
		off += strlen(words[i]) + 1;
	}
	r = ctl_dispatch(&disp, &peer, seq, buf, (uint32_t)len);
	/* the request has its own copy: the receiver's buffer is reused at once */
	memset(buf, 'x', len);
	free(buf);
	return r;
}

#define DISPATCH(admin, seq, ...) \
	dispatch(admin, seq, (const char *const[]){ __VA_ARGS__ }, \
		 sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *))

Test(ctl_dispatch, handler_gets_its_tables_context_and_only_its_arguments)
{
	cr_assert_eq(DISPATCH(false, 9, "pf", "show", "ens1f0", "--json"), 0);
	cr_assert_eq(seen.runs, 1u);
	cr_assert_eq(seen.ctx, ctx_b);
	cr_assert_eq(seen.argc, 1);
	cr_assert_str_eq(seen.argv[0], "ens1f0");
	cr_assert(seen.argv_ends, "argv[argc] is not NULL");
	cr_assert(seen.json, "--json was not noted");
	cr_assert_eq(rec.replies, 1u);
	cr_assert_eq(rec.status, 7);
	/* asked --json: the reply is the structured document */
	cr_assert_str_eq(rec.text, "{\"status\":7,\"message\":\"ctx=B args=1\",\"data\":null}");
}

Test(ctl_dispatch, reply_carries_the_requests_seq_and_the_peers_sink_generation)
{
	DISPATCH(false, 77, "ping");
	cr_assert_eq(rec.replies, 1u);
	cr_assert_eq(rec.status, 0);
	cr_assert_str_eq(rec.text, "pong");
	cr_assert_eq(rec.seq, 77u);
	cr_assert_eq(rec.sink_gen, 41u);
}

Test(ctl_dispatch, longest_match_wins_across_tables)
{
	/* B's one-word "pf" matches too; A's "pf set" matches more words */
	DISPATCH(true, 1, "pf", "set", "ens1f0");
	cr_assert_eq(seen.ctx, ctx_a);
	cr_assert_str_eq(rec.text, "ctx=A args=1");
	/* and a word no two-word command has falls back to the shorter match */
	DISPATCH(false, 2, "pf", "frob");
	cr_assert_eq(seen.ctx, ctx_b);
	cr_assert_str_eq(rec.text, "ctx=B args=1");
	cr_assert_str_eq(seen.argv[0], "frob");
}

Test(ctl_dispatch, help_lists_every_table_in_registration_order)
{
	DISPATCH(false, 1, "help");
	cr_assert_eq(rec.status, 0);
	cr_assert_str_eq(rec.text, "ping: check that the daemon answers\n"
				   "pf set PF: A's [admin]\n"
				   "later: answers afterwards\n"
				   "pf ...: B's\n"
				   "pf show PF: B's\n");
	cr_assert_eq(seen.runs, 0u);
}

Test(ctl_dispatch, admin_only_command_is_refused_before_it_runs)
{
	DISPATCH(false, 1, "pf", "set", "ens1f0");
	cr_assert_eq(seen.runs, 0u);
	cr_assert_eq(rec.replies, 1u);
	cr_assert_eq(rec.status, -EPERM);
	cr_assert_str_eq(rec.text, "pf: needs root or the admin group (uid 1000 is neither)");
}

Test(ctl_dispatch, a_usage_reply_carries_the_usage_status_and_text)
{
	struct ctl_request *req = calloc(1, sizeof(*req));

	cr_assert(req);
	req->sink = &rec.sink;
	ctl_reply_usage(req, "thing add NAME");
	cr_assert_eq(rec.replies, 1u);
	cr_assert_eq(rec.status, -VFPOOL_CTL_EUSAGE);
	cr_assert_str_eq(rec.text, "usage: thing add NAME");
}

Test(ctl_dispatch, unknown_command_is_named_in_the_refusal)
{
	DISPATCH(true, 1, "frobnicate", "now");
	cr_assert_eq(seen.runs, 0u);
	cr_assert_eq(rec.status, -EOPNOTSUPP);
	cr_assert_str_eq(rec.text, "frobnicate: unknown command (try help)");
}

Test(ctl_dispatch, unterminated_arguments_are_refused)
{
	struct ctl_peer peer = peer_of(true);
	char *buf = malloc(4);

	memcpy(buf, "ping", 4); /* no NUL: a word running past the payload */
	cr_assert_eq(ctl_dispatch(&disp, &peer, 1, buf, 4), 0);
	free(buf);
	cr_assert_eq(seen.runs, 0u);
	cr_assert_eq(rec.status, -EINVAL);
	cr_assert_str_eq(rec.text, "command: arguments not NUL-terminated");
}

Test(ctl_dispatch, more_arguments_than_the_protocol_allows_are_refused)
{
	const char *words[VFPOOL_CTL_MAX_ARGS + 1];

	for (size_t i = 0; i < VFPOOL_CTL_MAX_ARGS + 1; i++)
		words[i] = "pf";
	dispatch(true, 1, words, VFPOOL_CTL_MAX_ARGS + 1);
	cr_assert_eq(seen.runs, 0u);
	cr_assert_eq(rec.status, -E2BIG);
	cr_assert_str_eq(rec.text, "command: more than 64 arguments");
}

Test(ctl_dispatch, a_handler_may_answer_after_dispatch_returned)
{
	DISPATCH(false, 5, "later", "x", "y");
	cr_assert_eq(seen.runs, 1u);
	cr_assert_eq(rec.replies, 0u, "answered before the handler did");
	cr_assert_not_null(seen.kept);
	/* its words are its own copy, still intact after the receiver reused its buffer */
	cr_assert_eq(seen.kept->argc, 2);
	cr_assert_str_eq(seen.kept->argv[0], "x");
	cr_assert_str_eq(seen.kept->argv[1], "y");
	ctl_reply(seen.kept, -EIO, "done %s", seen.kept->argv[1]);
	cr_assert_eq(rec.replies, 1u);
	cr_assert_eq(rec.seq, 5u);
	cr_assert_eq(rec.status, -EIO);
	cr_assert_str_eq(rec.text, "done y");
}

Test(ctl_dispatch, a_dropped_request_answers_nobody)
{
	DISPATCH(false, 5, "later");
	cr_assert_not_null(seen.kept);
	ctl_request_drop(seen.kept);
	cr_assert_eq(rec.replies, 0u);
}

Test(ctl_dispatch, registering_past_the_table_limit_is_refused)
{
	struct ctl_dispatcher full = { 0 };

	for (unsigned i = 0; i < CTL_MAX_TABLES; i++)
		cr_assert_eq(ctl_register(&full, table_a, NULL), 0);
	cr_assert_eq(ctl_register(&full, table_b, NULL), -ENOSPC);
	cr_assert_eq(full.n_tables, (unsigned)CTL_MAX_TABLES);
}
