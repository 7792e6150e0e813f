/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <libudev.h>

#include "core/numvfs/numvfs.h"
#include "core/numvfs/numvfs_boot.h"

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

int numvfs_boot_main(const char *state_dir, uint32_t timeout_ms, uint32_t wait_ms, FILE *out,
		     FILE *err)
{
	struct numvfs_restore_opts opts = {
		.timeout_ms = timeout_ms, .wait_ms = wait_ms, .progress = out,
	};
	struct udev *udev;
	char *report = NULL;
	int r;

	errno = 0;
	udev = udev_new();
	if (!udev) {
		fprintf(err, "vfpoold: --restore-numvfs: libudev: %s\n",
			strerror(errno ? errno : ENOMEM));
		return 1;
	}
	r = numvfs_restore_all(udev, state_dir, &opts, &report);
	udev_unref(udev);
	if (report)
		fputs(report, out);
	fflush(out);
	if (r < 0) {
		/* the report has one line per PF; the failed ones are those not ending well */
		fprintf(err, "vfpoold: --restore-numvfs from %s/%s failed: %s\n", state_dir,
			NUMVFS_DIR, report && report[0] ? "see the PFs above" : strerror(-r));
		for (char *line = report, *nl; line && *line; line = nl ? nl + 1 : NULL) {
			nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			if (!ends_with(line, " restored") && !ends_with(line, " already in place"))
				fprintf(err, "vfpoold: %s\n", line);
			if (!nl)
				break;
		}
		free(report);
		return 1;
	}
	free(report);
	return 0;
}
