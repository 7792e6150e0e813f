/* SPDX-License-Identifier: MIT */
/* A full file system under the run dir: the daemon's mapped files have their blocks
 * reserved before they are mapped, so a start on a full disk is an error with a message
 * (exit 1), never a SIGBUS at the first store into a hole, at every start. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/daemon_fixture.h"
#include "tests/run_cmd.h"

static char mnt[] = "/tmp/vfpool-full.XXXXXX";
static bool mounted;

/* A tmpfs of size bytes, private to the test; unmounted by .fini whatever the test did. */
static void mount_small_tmpfs(const char *size)
{
	char opts[64];

	cr_assert(mkdtemp(mnt), "mkdtemp: %s", strerror(errno));
	snprintf(opts, sizeof(opts), "size=%s,mode=0700", size);
	if (mount("tmpfs", mnt, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0) {
		int e = errno;

		rmdir(mnt);
		cr_skip_test("mounting a %s tmpfs needs root (CAP_SYS_ADMIN): %s", size, strerror(e));
	}
	mounted = true;
}

static void unmount(void)
{
	if (!mounted)
		return;
	if (umount(mnt) < 0)
		fprintf(stderr, "umount %s: %s\n", mnt, strerror(errno));
	rmdir(mnt);
	mounted = false;
}

static int start_daemon(char **ret_out)
{
	return run_capture(ret_out, "timeout 10 %s --simulate 1x64 --run-dir %s --state-dir %s 2>&1",
			   test_build_path("vfpoold"), mnt, mnt);
}

/* 64 VFs need a 52 KiB state segment; the tmpfs has 32 KiB. */
Test(full_disk, start_on_a_full_tmpfs_exits_1_naming_the_state_file_and_the_reason,
     .fini = unmount)
{
	char want[96], *out;
	int status;

	mount_small_tmpfs("32k");
	status = start_daemon(&out);
	cr_assert_eq(status, 1, "exit status %d (128+7 is SIGBUS); it said:\n%s", status, out);
	snprintf(want, sizeof(want), "file=%s/state", mnt);
	cr_assert(strstr(out, want), "the message names the file:\n%s", out);
	cr_assert(strstr(out, "No space left on device"), "and the reason:\n%s", out);
	free(out);
	/* and again: nothing the failed start left behind makes the next one different */
	status = start_daemon(&out);
	cr_assert_eq(status, 1, "second start: exit status %d:\n%s", status, out);
	cr_assert(strstr(out, want), "%s", out);
	free(out);
}
