/* SPDX-License-Identifier: MIT */
/* `vfpoold --restore-numvfs`: the boot-time one-shot (dist/systemd/vfpool-restore-numvfs.service). */
#ifndef VFPOOL_CORE_NUMVFS_BOOT_H
#define VFPOOL_CORE_NUMVFS_BOOT_H

#include <stdint.h>
#include <stdio.h>

/* --restore-wait-ms: how long the boot restore waits for persisted PFs not present yet */
#define NUMVFS_RESTORE_WAIT_MS (30u * 1000u)

/* Restores every persisted PF's numvfs, waiting up to wait_ms for PFs not present yet
 * (saying so on out at once), prints the report (one line per PF) to out and, on failure,
 * a summary naming the failed PFs to err. Returns the exit status: 0 or 1. */
int numvfs_boot_main(const char *state_dir, uint32_t timeout_ms, uint32_t wait_ms, FILE *out,
		     FILE *err);

#endif
