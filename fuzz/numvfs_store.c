/* SPDX-License-Identifier: MIT */
/* Any bytes as a PF's numvfs state file (<state-dir>/virtual_functions/<pci>). */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/numvfs/numvfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PCI "0000:3b:00.0"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir[64], file[160];
	char why[256];
	unsigned n;
	int fd;

	if (!dir[0]) {
		char sub[128];

		snprintf(dir, sizeof(dir), "/tmp/vfpool-fuzz-numvfs.%d", (int)getpid());
		snprintf(sub, sizeof(sub), "%s/virtual_functions", dir);
		mkdir(dir, 0700);
		mkdir(sub, 0700);
		snprintf(file, sizeof(file), "%s/" PCI, sub);
	}
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	close(fd);
	numvfs_store_load(dir, PCI, &n, why, sizeof(why));
	/* and through the list the boot restore reads: one bad file is one bad entry */
	{
		struct numvfs_entry *e = NULL;
		struct numvfs_bad_entry *bad = NULL;
		size_t ne = 0, nb = 0;

		if (numvfs_store_list(dir, &e, &ne, &bad, &nb, why, sizeof(why)) == 0 &&
		    ne + nb != 1)
			__builtin_trap(); /* the one file is either trusted or reported */
		free(e);
		free(bad);
	}
	return 0;
}
