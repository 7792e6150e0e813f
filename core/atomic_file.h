/* SPDX-License-Identifier: MIT */
/* Replacing a small file so that a crash leaves the old content or the new, never a mix. */
#ifndef VFPOOL_CORE_ATOMIC_FILE_H
#define VFPOOL_CORE_ATOMIC_FILE_H

#include <stddef.h>
#include <sys/types.h>

/* Writes buf to dirfd/.name.tmp, fsyncs it, renames it over dirfd/name and fsyncs the
 * directory (the rename is the commit point; the directory sync makes it durable).
 * 0 or -errno; on failure the temp file is removed and name is untouched. */
int atomic_file_replace(int dirfd, const char *name, const void *buf, size_t len, mode_t mode);

#endif
