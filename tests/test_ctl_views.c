/* SPDX-License-Identifier: MIT */
/* vfpoolctl's views and output formats, run as a binary against the real daemon. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client/vfpoolctl/format_lease.h"
#include "tests/daemon_fixture.h"
#include "tests/run_cmd.h"

#define CLEAR "\033[H\033[2J"

static const char *ctl(void)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s", test_build_path("vfpoolctl"));
	return path;
}

static void alloc_cli(const struct test_daemon *d, const char *vm, const char *vnic,
		      const char *net)
{
	char *out;

	cr_assert_eq(run_capture(&out, "%s --run-dir %s alloc %s %s %s", ctl(), d->run_dir, vm, vnic,
				 net), 0, "alloc %s/%s failed", vm, vnic);
	free(out);
}

/* Into a pipe or a file, frames follow each other whole: no escape codes to clean up. */
Test(ctl_views, watch_count_2_into_a_pipe_prints_two_whole_frames_without_escape_codes)
{
	struct test_daemon d;
	char *out;

	test_daemon_start(&d, "1x4", NULL);
	cr_assert_eq(run_capture(&out, "%s --run-dir %s watch --count 2 --interval 10", ctl(),
				 d.run_dir), 0);
	cr_assert_eq(count_substr(out, "vfpoolctl watch: "), 2u, "frames:\n%s", out);
	cr_assert_eq(count_substr(out, "EXISTING"), 2u, "each frame has the PF table");
	cr_assert_null(strchr(out, '\033'), "an escape code into a pipe:\n%s", out);
	free(out);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(ctl_views, watch_exits_0_on_sigint)
{
	struct test_daemon d;
	int pipefd[2], status;
	char buf[256];
	pid_t pid;

	test_daemon_start(&d, "1x4", NULL);
	cr_assert_eq(pipe(pipefd), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		close(pipefd[1]);
		execl(ctl(), "vfpoolctl", "--run-dir", d.run_dir, "watch", "--interval", "3600000",
		      (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	/* the first frame is out: the handler is installed, it sleeps until the signal */
	cr_assert_gt(read(pipefd[0], buf, sizeof(buf)), 0, "watch printed nothing");
	kill(pid, SIGINT);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	close(pipefd[0]);
	cr_assert(WIFEXITED(status), "watch died of signal %d", WTERMSIG(status));
	cr_assert_eq(WEXITSTATUS(status), 0);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(ctl_views, watch_rejects_an_interval_below_10_ms_with_exit_2)
{
	char *out;

	cr_assert_eq(run_capture(&out, "%s --run-dir /nonexistent watch --interval 5 2>/dev/null",
				 ctl()), 2);
	free(out);
}

Test(ctl_views, lease_list_json_filters_by_vm)
{
	struct test_daemon d;
	char *out;

	test_daemon_start(&d, "2x8", NULL);
	alloc_cli(&d, "vm1", "nic0", "red");
	alloc_cli(&d, "vm2", "nic0", "red");
	alloc_cli(&d, "vm1", "nic1", "blue");
	cr_assert_eq(run_capture(&out, "%s --run-dir %s lease list --vm vm1 --json", ctl(),
				 d.run_dir), 0);
	cr_assert_eq(count_substr(out, "\"vm\":\"vm1\""), 2u, "%s", out);
	cr_assert_eq(count_substr(out, "\"vm\":\"vm2\""), 0u, "%s", out);
	cr_assert(strstr(out, "\"network\":\"blue\""), "%s", out);
	cr_assert_eq(out[0], '[', "a JSON array: %s", out);
	free(out);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* Column of word in line, -1 if absent. */
static long col_of(const char *line, const char *word)
{
	const char *p = strstr(line, word);

	return p ? p - line : -1;
}

Test(ctl_views, lease_list_columns_align_with_long_vm_names)
{
	struct test_daemon d;
	char *out, *save = NULL;
	long net_col, gen_col;

	test_daemon_start(&d, "1x8", NULL);
	alloc_cli(&d, "a-rather-long-virtual-machine-name", "nic0", "red");
	alloc_cli(&d, "vm2", "nic0", "red");
	cr_assert_eq(run_capture(&out, "%s --run-dir %s lease list", ctl(), d.run_dir), 0);
	char *header = strtok_r(out, "\n", &save);

	net_col = col_of(header, "NETWORK");
	gen_col = col_of(header, "GENERATION");
	cr_assert_gt(net_col, 0);
	for (char *l = strtok_r(NULL, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		cr_assert_eq(col_of(l, "red"), net_col, "NETWORK misaligned: '%s'", l);
		cr_assert(l[gen_col] >= '1' && l[gen_col] <= '9' && l[gen_col - 1] == ' ',
			  "GENERATION misaligned: '%s'", l);
	}
	free(out);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(ctl_views, pf_show_names_an_unknown_pf_and_exits_1)
{
	struct test_daemon d;
	char *out;

	test_daemon_start(&d, "1x4", NULL);
	cr_assert_eq(run_capture(&out, "%s --run-dir %s pf show ens9f9 2>&1", ctl(), d.run_dir), 1);
	cr_assert(strstr(out, "ens9f9: no such PF"), "%s", out);
	free(out);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(ctl_views, pf_show_by_netdev_lists_its_leased_vf)
{
	struct test_daemon d;
	char *out;

	test_daemon_start(&d, "2x4", NULL);
	alloc_cli(&d, "vm1", "nic0", "red");
	cr_assert_eq(run_capture(&out, "%s --run-dir %s pf show ens1f0 --json", ctl(), d.run_dir), 0);
	cr_assert(strstr(out, "\"netdev\":\"ens1f0\""), "%s", out);
	cr_assert_eq(count_substr(out, "\"state\":\"leased\""), 1u, "%s", out);
	cr_assert_eq(count_substr(out, "\"state\":\"free\""), 3u, "%s", out);
	free(out);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(ctl_views, pf_list_json_has_every_pf)
{
	struct test_daemon d;
	char *out;

	test_daemon_start(&d, "3x2", NULL);
	cr_assert_eq(run_capture(&out, "%s --run-dir %s pf list --json", ctl(), d.run_dir), 0);
	cr_assert_eq(count_substr(out, "\"index\":"), 3u, "%s", out);
	free(out);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(ctl_views, alloc_format_libvirt_is_well_formed_xml_with_mac_and_pci)
{
	struct test_daemon d;
	char *out, *check;

	test_daemon_start(&d, "1x4", NULL);
	cr_assert_eq(run_capture(&out, "%s --run-dir %s alloc vm1 nic0 red --mac 52:54:00:aa:bb:01 "
				 "--format libvirt", ctl(), d.run_dir), 0);
	cr_assert(strstr(out, "<interface type='hostdev' managed='yes'>"), "%s", out);
	cr_assert(strstr(out, "<mac address='52:54:00:aa:bb:01'/>"), "%s", out);
	/* the simulated host's first VF of PF 0 is 0001:00:00.0 */
	cr_assert(strstr(out, "<address type='pci' domain='0x0001' bus='0x00' slot='0x00' "
			      "function='0x0'/>"), "%s", out);
	cr_assert_eq(run_capture(&check, "%s --run-dir %s alloc vm1 nic1 red --format libvirt | "
				 "xmllint --noout - 2>&1", ctl(), d.run_dir), 0,
		     "xmllint rejected the output");
	cr_assert_str_empty(check, "xmllint: %s", check);
	free(check);
	free(out);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(ctl_views, alloc_format_qemu_prints_the_vfio_pci_device)
{
	struct test_daemon d;
	char *out;

	test_daemon_start(&d, "1x4", NULL);
	cr_assert_eq(run_capture(&out, "%s --run-dir %s alloc vm1 nic0 red --format qemu", ctl(),
				 d.run_dir), 0);
	cr_assert_str_eq(out, "-device vfio-pci,host=0001:00:00.0\n");
	free(out);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(ctl_views, alloc_format_unknown_is_a_usage_error)
{
	char *out;

	cr_assert_eq(run_capture(&out, "%s --run-dir /nonexistent alloc vm1 nic0 red --format yaml "
				 "2>/dev/null", ctl()), 2);
	free(out);
}

Test(format_lease, libvirt_vlan_becomes_a_tag_element)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct lease_view v = { .pci_addr = "0000:3b:02.1", .vlan = 100 };

	cr_assert_eq(format_lease_libvirt(f, &v), 0);
	fclose(f);
	cr_assert(strstr(buf, "  <vlan>\n    <tag id='100'/>\n  </vlan>\n"), "%s", buf);
	cr_assert(strstr(buf, "bus='0x3b' slot='0x02' function='0x1'"), "%s", buf);
	cr_assert_null(strstr(buf, "<mac"), "no MAC asked, none printed: %s", buf);
	free(buf);
}

Test(format_lease, libvirt_of_a_vf_vfpool_bound_is_unmanaged_and_names_its_group)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len), *p;
	struct lease_view v = { .pci_addr = "0000:3b:02.1", .vfio_group = "/dev/vfio/12" };

	cr_assert_eq(format_lease_libvirt(f, &v), 0);
	fclose(f);
	/* libvirt must not bind it again, nor give it back at shutdown: vfpoold does */
	cr_assert(strstr(buf, "<interface type='hostdev' managed='no'>"), "%s", buf);
	cr_assert(strstr(buf, "/dev/vfio/12"), "%s", buf);
	p = popen("xmllint --noout - >/dev/null 2>&1", "w");
	cr_assert_not_null(p);
	fputs(buf, p);
	cr_assert_eq(pclose(p), 0, "xmllint rejected: %s", buf);
	free(buf);
}

Test(format_lease, qemu_of_a_vf_vfpool_bound_names_its_group_in_the_device_id)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct lease_view v = { .pci_addr = "0000:3b:02.1", .vfio_group = "/dev/vfio/12" };

	cr_assert_eq(format_lease_qemu(f, &v), 0);
	fclose(f);
	cr_assert_str_eq(buf, "-device vfio-pci,host=0000:3b:02.1,id=vfio12\n");
	free(buf);
}

Test(ctl_views, alloc_driver_vfio_pci_on_a_simulated_host_is_refused_with_the_reason)
{
	struct test_daemon d;
	char *out;

	test_daemon_start(&d, "1x4", NULL);
	cr_assert_neq(run_capture(&out, "%s --run-dir %s alloc vm1 nic0 red --driver vfio-pci "
				  "2>&1", ctl(), d.run_dir), 0);
	cr_assert(strstr(out, "vfio-pci binding needs the host's devices"), "%s", out);
	free(out);
	cr_assert_eq(run_capture(&out, "%s --run-dir %s alloc vm1 nic0 red --driver ixgbevf "
				 "2>&1", ctl(), d.run_dir), 2, "vfio-pci is the one choice");
	free(out);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(format_lease, malformed_pci_addresses_are_refused)
{
	static const char *const bad[] = { "", "3b:02.1", "0000:3b:02.8", "0000:3b:20.1",
					   "0000:3b:02.1x", "zzzz:3b:02.1" };
	struct pci_address a;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(pci_address_parse(bad[i], &a), -22, "'%s' accepted", bad[i]);
	cr_assert_eq(pci_address_parse("0000:3b:1f.7", &a), 0);
	cr_assert_eq(a.bus, 0x3bu);
	cr_assert_eq(a.slot, 0x1fu);
	cr_assert_eq(a.function, 7u);
}
