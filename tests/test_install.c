/* SPDX-License-Identifier: MIT */
/* make install into a DESTDIR, then the example launcher built from the installed files
 * only (pkg-config) allocates against a running daemon. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/daemon_fixture.h"
#include "tests/run_cmd.h"

Test(install, example_built_with_pkg_config_from_destdir_runs_against_the_daemon,
     .timeout = 120)
{
	struct test_daemon d;
	char dest[] = "/tmp/vfpool-destdir.XXXXXX", *out, *rm;
	const char *build = getenv("VFPOOL_BUILD");

	cr_assert(build, "VFPOOL_BUILD is not set: run the tests through tests/run.sh");
	cr_assert_eq(access("tests/install_check.sh", X_OK), 0,
		     "run from the source tree (tests/run.sh does)");
	cr_assert(mkdtemp(dest));
	test_daemon_start(&d, "2x4", NULL);
	cr_assert_eq(run_capture(&out, "bash tests/install_check.sh %s %s %s", build, d.run_dir,
				 dest), 0, "install check failed (its reason is on stderr):\n%s", out);
	cr_assert_eq(count_substr(out, "-device vfio-pci,host="), 2u, "launcher printed:\n%s", out);
	cr_assert_eq(count_substr(out, "\n"), 2u, "one line per vNIC:\n%s", out);
	free(out);
	cr_assert_eq(run_capture(&rm, "rm -rf %s", dest), 0);
	free(rm);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* ldconfig runs when installing into the real root, never into a DESTDIR (a package's
 * staging area: its postinst runs ldconfig on the target). */
Test(install, ldconfig_runs_for_the_real_root_only)
{
	char *out;

	cr_assert_eq(run_capture(&out, "unset MAKEFLAGS MFLAGS MAKELEVEL; make -n -s install "
				 "PREFIX=/usr | grep -c '^ldconfig$'"), 0);
	cr_assert_str_eq(out, "1\n", "make install PREFIX=/usr does not run ldconfig");
	free(out);
	cr_assert_eq(run_capture(&out, "unset MAKEFLAGS MFLAGS MAKELEVEL; make -n -s install "
				 "PREFIX=/usr DESTDIR=/tmp/vfpool-nowhere | grep -c ldconfig"), 1);
	cr_assert_str_eq(out, "0\n", "ldconfig into a DESTDIR");
	free(out);
}
