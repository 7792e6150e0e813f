/* SPDX-License-Identifier: MIT */
/* A daemon's --state-dir for a test: a fresh directory under /tmp, removed afterwards. */
#ifndef VFPOOL_TESTS_STATE_DIR_H
#define VFPOOL_TESTS_STATE_DIR_H

#include <stddef.h>

/* Makes /tmp/vfpool-state.XXXXXX into buf; removes it with everything in it. Abort the
 * test on failure. */
void state_dir_make(char *buf, size_t size);
void state_dir_remove(const char *dir);

/* The test's own: make_state_dir and remove_state_dir are a Test's .init and .fini. */
extern char state_dir[64];
void make_state_dir(void);
void remove_state_dir(void);

#endif
