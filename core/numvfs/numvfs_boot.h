/* SPDX-License-Identifier: MIT */
/* `vfpoold --restore-numvfs`: the boot-time one-shot (dist/systemd/vfpool-restore-numvfs.service). */
#ifndef VFPOOL_CORE_NUMVFS_BOOT_H
#define VFPOOL_CORE_NUMVFS_BOOT_H

#include <stdint.h>
#include <stdio.h>

/* Restores every persisted PF's numvfs, prints the report (one line per PF) to out and, on
 * failure, a summary naming the failed PFs to err. Returns the exit status: 0 or 1. */
int numvfs_boot_main(const char *state_dir, uint32_t timeout_ms, FILE *out, FILE *err);

#endif
