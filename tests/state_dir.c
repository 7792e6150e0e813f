/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/state_dir.h"

char state_dir[64];

void state_dir_make(char *buf, size_t size)
{
	snprintf(buf, size, "/tmp/vfpool-state.XXXXXX");
	cr_assert(mkdtemp(buf), "mkdtemp: %s", strerror(errno));
}

void state_dir_remove(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

void make_state_dir(void)
{
	state_dir_make(state_dir, sizeof(state_dir));
}

void remove_state_dir(void)
{
	state_dir_remove(state_dir);
}
