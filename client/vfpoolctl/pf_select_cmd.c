/* SPDX-License-Identifier: MIT */
/* vfpoolctl pf select list: the daemon's PF selectors (one "INDEX SELECTOR" line each, then
 * "default SELECTOR" when no include selector is set, then "unmanaged-pfs N"), as a table or
 * as JSON with each criterion as a key. add and del are the daemon's (cmd_daemon). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "client/vfpoolctl/cmds.h"
#include "client/vfpoolctl/format_text.h"

/* {"index":N|null,"action":S,"id":S,...,"text":S} from "include id=1b36:0010 vfs=0-3" */
static struct json_object *selector_json(const char *index, const char *sel)
{
	struct json_object *o = json_object_new_object();
	char buf[1024], *save = NULL, *w;
	unsigned i;

	json_object_object_add(o, "index", ctl_parse_uint(index, 0, 1000, &i) == 0 ?
				  json_object_new_int((int)i) : NULL);
	json_object_object_add(o, "default",
			       json_object_new_boolean(strcmp(index, "default") == 0));
	snprintf(buf, sizeof(buf), "%s", sel);
	w = strtok_r(buf, " ", &save);
	json_object_object_add(o, "action", ctl_json_string(w ? w : ""));
	while ((w = strtok_r(NULL, " ", &save))) {
		char *eq = strchr(w, '=');

		if (!eq)
			continue;
		*eq = '\0';
		json_object_object_add(o, w, ctl_json_string(eq + 1));
	}
	json_object_object_add(o, "text", ctl_json_string(sel));
	return o;
}

int cmd_pf_select_list(struct ctl *c)
{
	static const char *const words[] = { "pf", "select", "list" };
	struct json_object *root = NULL, *list = NULL;
	unsigned unmanaged = 0;
	char *text = NULL;
	int status, r;

	r = ctl_daemon_ask(c, words, 3, &status, &text);
	if (r)
		return ctl_connect_failed(c, r);
	if (status < 0) {
		r = ctl_fail(c, status, "%s", text && *text ? text : vfpool_strerror(status));
		free(text);
		return r;
	}
	if (c->json) {
		root = json_object_new_object();
		list = json_object_new_array();
	} else {
		printf("%-7s %s\n", "INDEX", "SELECTOR");
	}
	for (const char *l = text ? text : ""; *l;) {
		size_t n = strcspn(l, "\n");
		char line[1024], out[2048], *sp;

		snprintf(line, sizeof(line), "%.*s", (int)n, l);
		l += n + (l[n] == '\n');
		sp = strchr(line, ' ');
		if (!sp)
			continue;
		*sp = '\0';
		if (strcmp(line, "unmanaged-pfs") == 0) {
			ctl_parse_uint(sp + 1, 0, ~0u, &unmanaged);
			continue;
		}
		if (list)
			json_object_array_add(list, selector_json(line, sp + 1));
		else
			printf("%-7s %s%s\n", line, ctl_text(out, sizeof(out), sp + 1),
			       strcmp(line, "default") == 0 ? " (no include selector set)" : "");
	}
	free(text);
	if (root) {
		json_object_object_add(root, "selectors", list);
		json_object_object_add(root, "unmanaged_pfs", json_object_new_int64(unmanaged));
		r = ctl_json_print(stdout, root);
	} else {
		printf("%u SR-IOV PF%s outside the selectors (unmanaged)\n", unmanaged,
		       unmanaged == 1 ? "" : "s");
		r = 0;
	}
	return r || fflush(stdout) ? CTL_EXIT_FAIL : CTL_EXIT_OK;
}
