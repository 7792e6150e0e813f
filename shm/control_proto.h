/* SPDX-License-Identifier: MIT */
/*
 * The control socket (<run-dir>/vfpool.sock, unix stream): a client says hello, the daemon
 * answers with a welcome carrying two or three file descriptors (SCM_RIGHTS): the client's
 * ring segment (read-write, sealed against resizing), the state segment (read-only) and,
 * from ring layout version 2, the pending summary segment (read-write, shared by every
 * client: shm/layout.h).
 * The connection stays open: its close is how the daemon learns the client is gone.
 */
#ifndef VFPOOL_SHM_CONTROL_PROTO_H
#define VFPOOL_SHM_CONTROL_PROTO_H

#include <errno.h>
#include <stdint.h>

#define VFPOOL_CTL_MAGIC   UINT32_C(0x4c544356) /* "VCTL" */
#define VFPOOL_CTL_VERSION 1u
#define VFPOOL_CTL_SOCKET  "vfpool.sock"
#define VFPOOL_STATE_FILE  "state"

enum vfpool_ctl_type {
	VFPOOL_CTL_HELLO = 1,
	VFPOOL_CTL_WELCOME = 2,
	VFPOOL_CTL_COMMAND = 3, /* payload: argv, each word NUL-terminated */
	VFPOOL_CTL_REPLY = 4,   /* payload: NUL-terminated text (or JSON when asked) */
};

/* After the welcome, the connection carries commands: one frame, one reply, in order.
 * Commands that change configuration need root or the admin group (SO_PEERCRED). */
struct vfpool_ctl_frame {
	uint32_t magic;
	uint16_t version;
	uint16_t type;   /* VFPOOL_CTL_COMMAND or VFPOOL_CTL_REPLY */
	uint32_t seq;    /* echoed in the reply */
	uint32_t len;    /* payload bytes that follow */
	int32_t status;  /* reply: >= 0, or a negative errno */
	uint32_t reserved;
};

/* A reply's status when the command's words themselves are wrong (a missing argument, an
 * unknown option: its usage), told apart from a refused value (-EINVAL) and from a command
 * the daemon does not know (-EOPNOTSUPP): clients report it as a usage error (vfpoolctl
 * exits 2). The text is "usage: ..." with the command's usage. */
#define VFPOOL_CTL_EUSAGE EBADRQC

#define VFPOOL_CTL_MAX_COMMAND 8192u
#define VFPOOL_CTL_MAX_REPLY   (1u << 20)
#define VFPOOL_CTL_MAX_ARGS    64u

struct vfpool_ctl_hello {
	uint32_t magic;
	uint16_t version;
	uint16_t type; /* VFPOOL_CTL_HELLO */
	uint32_t sq_entries; /* power of two, 8..VFPOOL_RING_MAX_ENTRIES */
	uint32_t cq_entries;
	uint8_t reserved[16]; /* zero */
};

struct vfpool_ctl_welcome {
	uint32_t magic;
	uint16_t version;
	uint16_t type; /* VFPOOL_CTL_WELCOME */
	int32_t status; /* 0, or a negative errno and no descriptors */
	uint32_t client_id;
	uint64_t ring_size;
	uint64_t state_size;
	char message[96];
};

_Static_assert(sizeof(struct vfpool_ctl_hello) == 32, "hello size");
_Static_assert(sizeof(struct vfpool_ctl_welcome) == 128, "welcome size");
_Static_assert(sizeof(struct vfpool_ctl_frame) == 24, "frame size");

#endif
