/* SPDX-License-Identifier: MIT */
/* Commands the daemon implements: vfpoolctl only carries the words and prints the answer. */
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/vfpoolctl/cmds.h"

int cmd_daemon(const struct ctl_opts *o)
{
	const char *words[VFPOOL_CTL_ARGS_MAX];
	struct vfpool *h;
	char *out = NULL;
	int n = 0, r;

	for (int i = 0; i < o->argc && n < VFPOOL_CTL_ARGS_MAX - 1; i++)
		words[n++] = o->argv[i];
	if (o->json && n < VFPOOL_CTL_ARGS_MAX)
		words[n++] = "--json";
	r = vfpool_connect(o->run_dir, NULL, &h);
	if (r) {
		fprintf(stderr, "vfpoolctl: %s: %s\n", o->run_dir, vfpool_strerror(r));
		return CTL_EXIT_FAIL;
	}
	r = vfpool_command(h, n, words, &out);
	vfpool_close(h);
	if (r < 0) {
		fprintf(stderr, "vfpoolctl %s: %s\n", o->argv[0], out && *out ? out : vfpool_strerror(r));
		free(out);
		return r == -EOPNOTSUPP ? CTL_EXIT_USAGE : CTL_EXIT_FAIL;
	}
	if (out && *out)
		printf("%s%s", out, out[strlen(out) - 1] == '\n' ? "" : "\n");
	free(out);
	return CTL_EXIT_OK;
}
