/* SPDX-License-Identifier: MIT */
/* Runs a shell command line and captures what it printed, for tests of the CLI tools. */
#ifndef VFPOOL_TESTS_RUN_CMD_H
#define VFPOOL_TESTS_RUN_CMD_H

/* Runs the formatted command under /bin/sh; *ret_out receives its standard output
 * (NUL-terminated, free() it). Returns its exit status, 128+N when killed by signal N. */
__attribute__((format(printf, 2, 3)))
int run_capture(char **ret_out, const char *fmt, ...);

/* The whole file at path, NUL-terminated (free() it); aborts the test if it cannot be read. */
char *read_whole_file(const char *path);

/* Occurrences of needle in hay (non-overlapping). */
unsigned count_substr(const char *hay, const char *needle);

#endif
