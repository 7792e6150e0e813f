/* SPDX-License-Identifier: MIT */
/* `vfpoolctl doctor`: the command around the checks of doctor.c (local, no daemon needed)
 * and, when vfpoold runs, doctor_vfs.c's of its view.
 * Its exit codes stay clear of the ones every command uses (1 failed, 2 usage):
 * 0 every check passed, 1 the host could not be checked, 3 warnings, 4 a check failed. */
#include <stdio.h>

#include <json-c/json.h>

#include "client/vfpoolctl/cmds.h"
#include "client/vfpoolctl/doctor.h"
#include "client/vfpoolctl/format_text.h"

enum { DOCTOR_EXIT_WARN = 3, DOCTOR_EXIT_FAIL = 4 };

static void add_check(void *userdata, enum vfpoolctl_doctor_status status, const char *check,
		      const char *detail)
{
	struct json_object *o = json_object_new_object();
	char tag[8];

	snprintf(tag, sizeof(tag), "%s", vfpoolctl_doctor_tag(status));
	for (char *p = tag; *p; p++)
		*p = (char)(*p - 'A' + 'a');
	json_object_object_add(o, "status", json_object_new_string(tag));
	json_object_object_add(o, "check", json_object_new_string(check));
	json_object_object_add(o, "detail", ctl_json_string(detail));
	json_object_array_add(userdata, o);
}

static void print_check(void *userdata, enum vfpoolctl_doctor_status status, const char *check,
			const char *detail)
{
	fprintf(userdata, "%s %s: %s\n", vfpoolctl_doctor_tag(status), check, detail);
}

/* The checks of the daemon's view when it runs (without one the host checks stand alone);
 * the worse of status and theirs. */
static int check_vfs(const struct ctl *c, int status, vfpoolctl_doctor_fn fn, void *userdata)
{
	struct vfpool_snapshot *s;
	int vfs;

	if (vfpool_snapshot_take(c->run_dir, &s) < 0)
		return status;
	vfs = vfpoolctl_doctor_vfs(s, fn, userdata);
	vfpool_snapshot_free(s);
	return vfs > status ? vfs : status;
}

int cmd_doctor(struct ctl *c)
{
	static const int exit_code[] = { [DOCTOR_PASS] = CTL_EXIT_OK,
					 [DOCTOR_WARN] = DOCTOR_EXIT_WARN,
					 [DOCTOR_FAIL] = DOCTOR_EXIT_FAIL,
					 [DOCTOR_ERROR] = CTL_EXIT_FAIL };
	int status;

	if (c->json) {
		struct json_object *root = json_object_new_object(), *checks = json_object_new_array();
		char tag[8];

		status = vfpoolctl_doctor_run(add_check, checks);
		status = check_vfs(c, status, add_check, checks);
		snprintf(tag, sizeof(tag), "%s", vfpoolctl_doctor_tag(status));
		for (char *p = tag; *p; p++)
			*p = (char)(*p - 'A' + 'a');
		json_object_object_add(root, "status", json_object_new_string(tag));
		json_object_object_add(root, "checks", checks);
		if (ctl_json_print(stdout, root))
			return CTL_EXIT_FAIL;
	} else {
		status = vfpoolctl_doctor(stdout);
		status = check_vfs(c, status, print_check, stdout);
	}
	if (fflush(stdout))
		return CTL_EXIT_FAIL;
	return exit_code[status];
}
