/* SPDX-License-Identifier: MIT */
/*
 * vfpoolctl as an operator and a script meet it: one parser with strict numbers, every
 * command reachable and with --help, exit codes 0/1/2, messages that name their object
 * once, JSON (json-c) from every command, and names with any byte escaped.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "tests/daemon_fixture.h"
#include "tests/run_cmd.h"
#include "tests/udev_testbed.h"
#include "vfpool/vfpool.h"

static const char *ctl(void)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s", test_build_path("vfpoolctl"));
	return path;
}

/* Runs vfpoolctl with args against d (NULL: a run dir with no daemon), stdout in *out and
 * stderr in *err; returns its exit status. */
static int ctl_run(const struct test_daemon *d, char **out, char **err, const char *args)
{
	char errf[] = "/tmp/vfpool-ctl-err.XXXXXX", *e;
	int fd = mkstemp(errf), st;

	cr_assert_geq(fd, 0);
	close(fd);
	st = run_capture(out, "%s --run-dir %s %s 2>%s", ctl(), d ? d->run_dir : "/nonexistent",
			 args, errf);
	cr_assert_eq(run_capture(&e, "cat %s", errf), 0);
	unlink(errf);
	if (err)
		*err = e;
	else
		free(e);
	return st;
}

/* The document, or the test fails: strict JSON, valid UTF-8. */
static struct json_object *parse_json(const char *text)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;

	cr_assert(tok);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, text, (int)strlen(text));
	cr_assert(o, "not JSON (%s): %s", json_tokener_error_desc(json_tokener_get_error(tok)),
		  text);
	cr_assert(strcmp(text + json_tokener_get_parse_end(tok), "\n") == 0 ||
		  text[json_tokener_get_parse_end(tok)] == '\0',
		  "one document, then a newline: %s", text);
	json_tokener_free(tok);
	return o;
}

static void alloc_ok(const struct test_daemon *d, const char *args)
{
	char *out;

	cr_assert_eq(ctl_run(d, &out, NULL, args), 0, "alloc %s failed", args);
	free(out);
}

static unsigned leases_of(const struct test_daemon *d, const char *vm)
{
	struct vfpool_snapshot *s;
	unsigned n = 0;

	cr_assert_eq(vfpool_snapshot_take(d->run_dir, &s), 0);
	for (unsigned i = 0; i < vfpool_snapshot_vf_count(s); i++) {
		struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);

		cr_assert_eq(vfpool_snapshot_vf(s, i, &v), 0);
		n += v.status == VFPOOL_VF_STATUS_LEASED && strcmp(v.vm_id, vm) == 0;
	}
	vfpool_snapshot_free(s);
	return n;
}

Test(ctl_cli, a_generation_that_is_not_a_whole_number_is_a_usage_error_and_keeps_the_lease)
{
	static const char *const bad[] = { "abc", "7x", "-1", "+1", " 1", "" };
	struct test_daemon d;
	char args[64], *out, *err;

	test_daemon_start(&d, "1x4", NULL);
	alloc_ok(&d, "alloc vm1 nic0 red");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(args, sizeof(args), "release vm1 nic0 '%s'", bad[i]);
		cr_assert_eq(ctl_run(&d, &out, &err, args), 2, "%s: %s", args, err);
		cr_assert_neq(err[0], '\0', "%s: a usage error says why", args);
		free(out);
		free(err);
		cr_assert_eq(leases_of(&d, "vm1"), 1u, "%s released the lease", args);
	}
	cr_assert_eq(ctl_run(&d, &out, NULL, "release vm1 nic0 1"), 0);
	cr_assert_eq(leases_of(&d, "vm1"), 0u);
	free(out);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(ctl_cli, option_values_that_are_not_numbers_are_usage_errors_that_lease_nothing)
{
	static const char *const bad[] = {
		"alloc vm1 nic0 red --numa abc", "alloc vm1 nic0 red --numa 7x",
		"alloc vm1 nic0 red --numa -1", "alloc vm1 nic0 red --numa 1024",
		"alloc vm1 nic0 red --mac 52:54:00:00:00", "alloc vm1 nic0 red --mac 52:54:00:00:00:0g",
		"watch --count 1 --interval 5", "watch --count 0", "network add red --vlan 7x",
		"pf set ens1f0 --numvfs -1", "pf config ens1f0 --all-networks maybe",
	};
	struct test_daemon d;
	char *out, *err;

	test_daemon_start(&d, "1x4", NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(ctl_run(&d, &out, &err, bad[i]), 2, "%s: %s", bad[i], err);
		free(out);
		free(err);
	}
	cr_assert_eq(leases_of(&d, "vm1"), 0u);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(ctl_cli, extra_arguments_and_unknown_options_after_a_command_are_usage_errors)
{
	static const char *const bad[] = {
		"snapshot extra", "ping extra", "alloc vm1 nic0 red extra", "release vm1 nic0 1 2",
		"pf show ens1f0 ens1f1", "doctor now", "snapshot --bogus", "pf list --all",
		"lease gc", "snapshot --json=1", "metrics --textfile", "network list --vlan 3",
	};
	struct test_daemon d;
	char *out, *err;

	test_daemon_start(&d, "1x4", NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(ctl_run(&d, &out, &err, bad[i]), 2, "%s: %s", bad[i], err);
		cr_assert(strstr(err, "Try 'vfpoolctl "), "%s: %s", bad[i], err);
		free(out);
		free(err);
	}
	cr_assert_eq(ctl_run(&d, &out, &err, "snapshot --bogus"), 2);
	cr_assert_str_eq(err, "vfpoolctl snapshot: unknown option --bogus\n"
			      "Try 'vfpoolctl snapshot --help'.\n");
	free(out);
	free(err);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(ctl_cli, an_unknown_global_option_is_named_as_typed)
{
	char *out, *err;

	cr_assert_eq(ctl_run(NULL, &out, &err, "--bogus snapshot"), 2);
	cr_assert_str_eq(err, "vfpoolctl: unknown option --bogus\nTry 'vfpoolctl --help'.\n");
	free(out);
	free(err);
	cr_assert_eq(ctl_run(NULL, &out, &err, "frobnicate"), 2);
	cr_assert(strstr(err, "unknown command 'frobnicate'"), "%s", err);
	free(out);
	free(err);
}

/* The commands as --json --help lists them ("pf show", ...), one a line. */
static char *command_names(void)
{
	struct json_object *o, *list;
	char *out, *names = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&names, &len);

	cr_assert_eq(ctl_run(NULL, &out, NULL, "--json --help"), 0);
	o = parse_json(out);
	cr_assert(json_object_object_get_ex(o, "commands", &list));
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *c = json_object_array_get_idx(list, i), *name;

		cr_assert(json_object_object_get_ex(c, "command", &name));
		fprintf(f, "%s\n", json_object_get_string(name));
	}
	fclose(f);
	json_object_put(o);
	free(out);
	return names;
}

Test(ctl_cli, every_command_has_help_that_exits_0)
{
	char *names = command_names(), *save = NULL, *out, args[96];
	unsigned n = 0;

	for (char *c = strtok_r(names, "\n", &save); c; c = strtok_r(NULL, "\n", &save)) {
		snprintf(args, sizeof(args), "%s --help", c);
		cr_assert_eq(ctl_run(NULL, &out, NULL, args), 0, "%s", args);
		cr_assert(strncmp(out, "Usage: vfpoolctl ", 17) == 0, "%s: %s", args, out);
		cr_assert(strstr(out, c), "%s does not name its command: %s", args, out);
		free(out);
		n++;
	}
	cr_assert_geq(n, 25u, "only %u commands", n);
	free(names);
}

Test(ctl_cli, version_says_which)
{
	char *out;

	cr_assert_eq(ctl_run(NULL, &out, NULL, "--version"), 0);
	cr_assert(strncmp(out, "vfpoolctl 1.", 12) == 0, "%s", out);
	free(out);
}

/* The daemon's own command list (its help) against vfpoolctl's: every command the daemon
 * serves is reachable and listed. */
Test(ctl_cli, help_lists_every_command_the_daemon_serves)
{
	const char *words[] = { "help" };
	struct test_daemon d;
	char *daemon_help = NULL, *names = command_names(), *save = NULL, *help;
	struct vfpool *h;
	unsigned n = 0;

	test_daemon_start(&d, "1x4", NULL);
	cr_assert_eq(vfpool_connect(d.run_dir, NULL, &h), 0);
	cr_assert_eq(vfpool_command(h, 1, words, &daemon_help), 0);
	vfpool_close(h);
	cr_assert_eq(ctl_run(NULL, &help, NULL, "--help"), 0);
	for (char *l = strtok_r(daemon_help, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char cmd[64] = "", want[80];
		char *w, *wsave = NULL;

		/* "pf set PF --numvfs N: what it does [admin]": the lower-case words before the
		 * arguments are the command */
		l[strcspn(l, ":")] = '\0';
		for (w = strtok_r(l, " ", &wsave); w && w[0] >= 'a' && w[0] <= 'z';
		     w = strtok_r(NULL, " ", &wsave))
			snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), "%s%s", cmd[0] ? " " : "", w);
		snprintf(want, sizeof(want), "\n%s\n", cmd);
		cr_assert(strstr(names, cmd) && (strncmp(names, cmd, strlen(cmd)) == 0 ||
						  strstr(names, want)),
			  "the daemon serves '%s'; vfpoolctl does not know it", cmd);
		snprintf(want, sizeof(want), "\n  %s", cmd);
		cr_assert(strstr(help, want), "vfpoolctl --help does not list '%s'", cmd);
		n++;
	}
	cr_assert_geq(n, 15u, "the daemon listed only %u commands", n);
	free(help);
	free(names);
	free(daemon_help);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(ctl_cli, lease_gc_and_lease_release_of_a_vm_reach_the_daemon)
{
	struct test_daemon d;
	char *out;

	test_daemon_start(&d, "1x8", NULL);
	alloc_ok(&d, "alloc vm1 nic0 red");
	alloc_ok(&d, "alloc vm1 nic1 red");
	alloc_ok(&d, "alloc vm2 nic0 red");
	alloc_ok(&d, "alloc vm3 nic0 red");
	cr_assert_eq(ctl_run(&d, &out, NULL, "lease gc vm1"), 0);
	cr_assert_str_eq(out, "released 2 leases\n");
	free(out);
	cr_assert_eq(leases_of(&d, "vm1"), 0u);
	cr_assert_eq(ctl_run(&d, &out, NULL, "lease release vm2"), 0);
	cr_assert_str_eq(out, "released 1 leases\n");
	free(out);
	cr_assert_eq(ctl_run(&d, &out, NULL, "--json lease release vm3 nic0"), 0);
	json_object_put(parse_json(out));
	cr_assert(strstr(out, "\"status\":0,\"message\":\"released 1 leases\""), "%s", out);
	free(out);
	cr_assert_eq(leases_of(&d, "vm2") + leases_of(&d, "vm3"), 0u);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(ctl_cli, pf_show_has_the_daemons_vfs_config)
{
	static const char *const setup[] = {
		"network add red", "pf config ens1f0 --all-networks off",
		"pf network add ens1f0 red", "pf label add ens1f0 fast",
	};
	struct test_daemon d;
	struct json_object *o, *cfg, *msg;
	char *out;

	test_daemon_start(&d, "2x4", NULL);
	for (size_t i = 0; i < sizeof(setup) / sizeof(setup[0]); i++) {
		cr_assert_eq(ctl_run(&d, &out, NULL, setup[i]), 0, "%s", setup[i]);
		free(out);
	}
	cr_assert_eq(ctl_run(&d, &out, NULL, "pf show ens1f0"), 0);
	cr_assert(strstr(out, "all_networks=no"), "%s", out);
	cr_assert(strstr(out, "networks: red"), "%s", out);
	cr_assert(strstr(out, "labels: fast"), "%s", out);
	cr_assert(strstr(out, "0001:00:00.0"), "the local view is there too: %s", out);
	free(out);
	cr_assert_eq(ctl_run(&d, &out, NULL, "pf show 0 --json"), 0);
	o = parse_json(out);
	cr_assert(json_object_object_get_ex(o, "config", &cfg));
	cr_assert(json_object_object_get_ex(cfg, "message", &msg));
	cr_assert(strstr(json_object_get_string(msg), "labels: fast"), "%s", out);
	json_object_put(o);
	free(out);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(ctl_cli, a_run_dir_without_a_daemon_says_no_vfpoold_listening_at_its_socket)
{
	char dir[] = "/tmp/vfpool-nodaemon.XXXXXX", args[128], want[128], *out, *err;
	static const char *const cmds[] = { "alloc vm1 nic0 red", "release vm1 nic0", "ping",
					    "network list", "lease gc vm1" };

	cr_assert(mkdtemp(dir));
	snprintf(want, sizeof(want), "no vfpoold listening at %s/vfpool.sock\n", dir);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		snprintf(args, sizeof(args), "--run-dir %s %s", dir, cmds[i]);
		cr_assert_eq(ctl_run(NULL, &out, &err, args), 1, "%s", cmds[i]);
		cr_assert(strstr(err, want), "%s: %s", cmds[i], err);
		cr_assert_null(strstr(err, "no such lease"), "%s: no lease meaning: %s", cmds[i], err);
		free(out);
		free(err);
	}
	rmdir(dir);
}

Test(ctl_cli, a_refusal_names_its_object_once)
{
	struct test_daemon d;
	char *out, *err;

	test_daemon_start(&d, "1x4", NULL);
	alloc_ok(&d, "network add blue");
	cr_assert_eq(ctl_run(&d, &out, &err, "alloc vmX net0 red"), 1);
	cr_assert_str_eq(err, "vfpoolctl alloc: vmX/net0: network red not defined\n");
	free(out);
	free(err);
	cr_assert_eq(ctl_run(&d, &out, &err, "release vmX net0"), 1);
	cr_assert_str_eq(err, "vfpoolctl release: vmX/net0: holds no lease\n");
	free(out);
	free(err);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(ctl_cli, an_empty_or_long_id_names_the_field_and_the_limit)
{
	char args[160], *out, *err;

	cr_assert_eq(ctl_run(NULL, &out, &err, "alloc '' nic0 red"), 2);
	cr_assert(strstr(err, "vfpoolctl alloc: VM id is empty (1-63 bytes)"), "%s", err);
	free(out);
	free(err);
	snprintf(args, sizeof(args), "alloc %064d nic0 red", 0);
	cr_assert_eq(ctl_run(NULL, &out, &err, args), 2);
	cr_assert(strstr(err, "is 64 bytes, the limit is 63"), "%s", err);
	free(out);
	free(err);
	snprintf(args, sizeof(args), "release vm1 %032d", 0);
	cr_assert_eq(ctl_run(NULL, &out, &err, args), 2);
	cr_assert(strstr(err, "vNIC id '"), "%s", err);
	cr_assert(strstr(err, "is 32 bytes, the limit is 31"), "%s", err);
	free(out);
	free(err);
	cr_assert_eq(ctl_run(NULL, &out, &err, "lease gc vm1 ''"), 2);
	cr_assert(strstr(err, "VM id is empty"), "%s", err);
	free(out);
	free(err);
}

/* The daemon hands back a held lease as it is: another MAC is not applied, so vfpoolctl
 * must neither print it nor pretend it was. */
Test(ctl_cli, asking_again_with_another_mac_is_refused_naming_both)
{
	struct test_daemon d;
	struct json_object *o, *v;
	char *out, *err;

	test_daemon_start(&d, "1x4", NULL);
	alloc_ok(&d, "alloc vm1 nic0 red --mac 52:54:00:00:00:01");
	cr_assert_eq(ctl_run(&d, &out, &err, "alloc vm1 nic0 red --mac 52:54:00:00:00:02 "
			     "--format libvirt"), 1);
	cr_assert_null(strstr(out, "52:54:00:00:00:02"), "printed a MAC not applied: %s", out);
	cr_assert(strstr(err, "already holds 0001:00:00.0 with MAC 52:54:00:00:00:01, not "
			      "52:54:00:00:00:02"), "%s", err);
	free(out);
	free(err);
	cr_assert_eq(ctl_run(&d, &out, NULL, "alloc vm1 nic0 red --mac 52:54:00:00:00:01"), 0);
	cr_assert(strstr(out, "(already held)"), "%s", out);
	free(out);
	cr_assert_eq(ctl_run(&d, &out, NULL, "alloc vm1 nic0 red --json"), 0);
	o = parse_json(out);
	cr_assert(json_object_object_get_ex(o, "existing", &v) && json_object_get_boolean(v));
	cr_assert(json_object_object_get_ex(o, "mac", &v));
	cr_assert_str_eq(json_object_get_string(v), "52:54:00:00:00:01", "the applied MAC");
	json_object_put(o);
	free(out);
	cr_assert_eq(ctl_run(&d, &out, NULL, "alloc vm1 nic1 red --format libvirt"), 0);
	cr_assert_null(strstr(out, "<mac"), "no MAC applied, none printed: %s", out);
	free(out);
	cr_assert_eq(ctl_run(&d, &out, NULL, "alloc vm1 nic2 red --json"), 0);
	o = parse_json(out);
	cr_assert(json_object_object_get_ex(o, "existing", &v) && !json_object_get_boolean(v));
	json_object_put(o);
	free(out);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(ctl_cli, every_command_prints_json_with_json)
{
	static const char *const cmds[] = {
		"snapshot", "snapshot --all", "pf list", "pf show ens1f0", "lease list",
		"lease list --vm vm1", "capacity", "metrics", "network list", "profile list",
		"vm migrate-check vm9", "ping", "help", "--version", "alloc vm1 nic1 red",
		"release vm1 nic1", "network add blue", "capacity --network blue",
		"profile add p1 --network blue --passthrough mandatory", "profile list",
		"lease gc vm7", "watch --count 1",
	};
	struct test_daemon d;
	char args[160], *out;

	test_daemon_start(&d, "2x4", NULL);
	alloc_ok(&d, "alloc vm1 nic0 red");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		snprintf(args, sizeof(args), "--json %s", cmds[i]);
		cr_assert_eq(ctl_run(&d, &out, NULL, args), 0, "%s", args);
		json_object_put(parse_json(out));
		free(out);
		/* after the command, too */
		snprintf(args, sizeof(args), "%s --json", cmds[i]);
		if (strcmp(cmds[i], "--version") && strncmp(cmds[i], "network add", 11) &&
		    strncmp(cmds[i], "profile add", 11) && strncmp(cmds[i], "release", 7)) {
			cr_assert_eq(ctl_run(&d, &out, NULL, args), 0, "%s", args);
			json_object_put(parse_json(out));
			free(out);
		}
	}
	/* a failure is a document too: status and message */
	cr_assert_eq(ctl_run(&d, &out, NULL, "--json vm migrate-check vm1"), 1);
	cr_assert(strstr(out, "{\"status\":-16,\"message\":\"vm1: holds 1 VF"), "%s", out);
	json_object_put(parse_json(out));
	free(out);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(ctl_cli, doctor_json_and_its_own_exit_codes)
{
	char *out;
	struct json_object *o, *v;
	int st = ctl_run(NULL, &out, NULL, "doctor --json");

	/* whatever this host is, the code is one of doctor's and never 2 (usage) */
	cr_assert(st == 0 || st == 3 || st == 4, "doctor exited %d", st);
	o = parse_json(out);
	cr_assert(json_object_object_get_ex(o, "status", &v));
	cr_assert_str_eq(json_object_get_string(v),
			 st == 0 ? "pass" : st == 3 ? "warn" : "fail");
	cr_assert(json_object_object_get_ex(o, "checks", &v));
	cr_assert_gt(json_object_array_length(v), 0u);
	json_object_put(o);
	free(out);
}

Test(ctl_cli, doctor_exits_3_for_warnings_and_4_for_a_failed_check)
{
	UMockdevTestbed *tb = testbed_from_fixture("host_two_vendors.umockdev");
	char *out;

	/* no vfio-pci driver: a warning */
	cr_assert_eq(ctl_run(NULL, &out, NULL, "doctor"), 3, "%s", out);
	cr_assert(strstr(out, "WARN vfio-pci"), "%s", out);
	free(out);
	testbed_add_pci_driver(tb, "vfio-pci");
	cr_assert_eq(ctl_run(NULL, &out, NULL, "doctor"), 0, "%s", out);
	free(out);
	g_object_unref(tb);
	tb = testbed_from_fixture("doctor_no_iommu.umockdev");
	cr_assert_eq(ctl_run(NULL, &out, NULL, "doctor"), 4, "%s", out);
	cr_assert(strstr(out, "FAIL iommu"), "%s", out);
	free(out);
	g_object_unref(tb);
}

Test(ctl_cli, watch_json_prints_one_document_a_frame)
{
	struct test_daemon d;
	char *out, *save = NULL;
	unsigned n = 0;

	test_daemon_start(&d, "1x4", NULL);
	cr_assert_eq(ctl_run(&d, &out, NULL, "watch --json --count 3 --interval 10"), 0);
	cr_assert_null(strchr(out, '\033'));
	for (char *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		json_object_put(parse_json(l));
		n++;
	}
	cr_assert_eq(n, 3u);
	free(out);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* Reads what a child on a pty writes until it exits. */
static char *read_pty(int fd, pid_t pid, int *ret_status)
{
	char *buf = malloc(1 << 16);
	size_t len = 0;

	cr_assert(buf);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 10000) <= 0)
			break;
		n = read(fd, buf + len, (1 << 16) - 1 - len);
		if (n <= 0)
			break; /* EIO: the child closed its side */
		len += (size_t)n;
	}
	buf[len] = '\0';
	cr_assert_eq(waitpid(pid, ret_status, 0), pid);
	return buf;
}

Test(ctl_cli, watch_on_a_terminal_fits_the_window)
{
	struct winsize ws = { .ws_row = 20, .ws_col = 70 };
	struct test_daemon d;
	char *out, *save = NULL;
	unsigned lines = 0;
	int fd, status;
	pid_t pid;

	test_daemon_start(&d, "2x32", NULL);
	for (int i = 0; i < 12; i++) {
		char args[64];

		snprintf(args, sizeof(args), "alloc vm%d nic0 red", i);
		alloc_ok(&d, args);
	}
	pid = forkpty(&fd, NULL, NULL, &ws);
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		execl(ctl(), "vfpoolctl", "--run-dir", d.run_dir, "watch", "--count", "1", "--all",
		      (char *)NULL);
		_exit(127);
	}
	out = read_pty(fd, pid, &status);
	close(fd);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s", out);
	cr_assert(strstr(out, "\033[H\033[2J"), "a frame replaces the last: %s", out);
	cr_assert(strstr(out, "EXISTING"), "the PF table: %s", out);
	cr_assert(strstr(out, "... "), "64 VFs do not fit 20 rows: %s", out);
	cr_assert(strstr(out, " more\r\n"), "%s", out);
	for (char *l = strtok_r(strstr(out, "vfpoolctl watch"), "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		size_t n = strcspn(l, "\r");

		cr_assert_leq(n, 70u, "line %u is %zu columns: '%s'", lines, n, l);
		lines++;
	}
	cr_assert_leq(lines, 20u, "%u lines on a 20-row terminal:\n%s", lines, out);
	free(out);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(ctl_cli, capacity_without_networks_says_so_and_alloc_warns)
{
	struct test_daemon d;
	char *out, *err;

	test_daemon_start(&d, "1x4", NULL);
	cr_assert_eq(ctl_run(&d, &out, NULL, "capacity"), 0);
	cr_assert(strstr(out, "no networks are defined"), "%s", out);
	free(out);
	cr_assert_eq(ctl_run(&d, &out, &err, "alloc vm1 nic0 red"), 0);
	cr_assert(strstr(err, "warning: no networks are defined, so network red was not checked"),
		  "%s", err);
	free(out);
	free(err);
	alloc_ok(&d, "network add red");
	cr_assert_eq(ctl_run(&d, &out, &err, "alloc vm1 nic1 red"), 0);
	cr_assert_str_empty(err, "%s", err);
	free(out);
	free(err);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* An interface name may hold any byte but '/' and NUL: JSON stays valid UTF-8 with every
 * byte escaped or replaced, text shows control bytes as \xNN. */
Test(ctl_cli, names_with_any_byte_come_out_as_valid_json_and_safe_text, .timeout = 60)
{
	static const char weird[] = "e\"\\\x01\x1b\xff\xc3\xa9"; /* ", \, ^A, ESC, 0xff, é */
	char *from, *to, state_dir[] = "/tmp/vfpool-state.XXXXXX", *out;
	struct json_object *o, *vfs;
	UMockdevTestbed *tb;
	struct test_daemon d;
	bool found = false;

	tb = testbed_from_fixture("host_two_vendors.umockdev");
	/* the VF netdev ens2f0v1 takes the weird name, as a rename in the kernel would */
	from = testbed_sys_path(tb, "devices/pci0000:5d/0000:5d:00.0/0000:5e:00.3/net/ens2f0v1");
	cr_assert(asprintf(&to, "%.*s%s", (int)(strlen(from) - 8), from, weird) > 0);
	cr_assert_eq(rename(from, to), 0, "rename %s: %s", from, strerror(errno));
	free(from);
	free(to);
	cr_assert(mkdtemp(state_dir));
	test_daemon_start_discovered(&d, state_dir, NULL);
	cr_assert_eq(ctl_run(&d, &out, NULL, "snapshot --all --json"), 0);
	o = parse_json(out);
	cr_assert(json_object_object_get_ex(o, "vfs", &vfs));
	for (size_t i = 0; i < json_object_array_length(vfs); i++) {
		struct json_object *v = json_object_array_get_idx(vfs, i), *netdev;

		cr_assert(json_object_object_get_ex(v, "netdev", &netdev));
		if (strcmp(json_object_get_string(netdev), "e\"\\\x01\x1b\xef\xbf\xbd\xc3\xa9") == 0)
			found = true;
	}
	cr_assert(found, "no VF named as the testbed names it (0xff as U+FFFD): %s", out);
	json_object_put(o);
	free(out);
	cr_assert_eq(ctl_run(&d, &out, NULL, "snapshot --all"), 0);
	cr_assert(strstr(out, "e\"\\\\\\x01\\x1b\\xff\xc3\xa9"), "%s", out);
	cr_assert_null(strpbrk(out, "\x01\x1b\xff"), "a raw control byte reached the terminal");
	free(out);
	cr_assert_eq(ctl_run(&d, &out, NULL, "watch --count 1 --all"), 0);
	cr_assert_null(strpbrk(out, "\x01\x1b\xff"), "a raw control byte reached the terminal");
	free(out);
	cr_assert_eq(test_daemon_stop(&d), 0);
	g_object_unref(tb);
	cr_assert_eq(run_capture(&out, "rm -rf %s", state_dir), 0);
	free(out);
}

/* issue 14: vfpoolctl alloc through a vNIC profile: its network, its passthrough mode
 * (preferred: else the bridge, an answer and not a failure), the profile-in-use rule. */
Test(ctl_cli, alloc_through_a_profile)
{
	struct test_daemon d;
	struct json_object *o, *v;
	char *out, *err;

	test_daemon_start(&d, "1x1", NULL);
	alloc_ok(&d, "network add red");
	alloc_ok(&d, "profile add fast --network red --passthrough mandatory");
	alloc_ok(&d, "profile add nice --network red --passthrough preferred");
	cr_assert_eq(ctl_run(&d, &out, NULL, "alloc vm1 n0 --profile fast --json"), 0);
	o = parse_json(out);
	cr_assert(json_object_object_get_ex(o, "network", &v));
	cr_assert_str_eq(json_object_get_string(v), "red", "the profile's network");
	cr_assert(json_object_object_get_ex(o, "profile", &v));
	cr_assert_str_eq(json_object_get_string(v), "fast");
	json_object_put(o);
	free(out);
	cr_assert_eq(leases_of(&d, "vm1"), 1u);

	/* preferred, no VF left: the bridge, exit 0 */
	cr_assert_eq(ctl_run(&d, &out, &err, "alloc vm1 n1 --profile nice"), 0, "%s", err);
	cr_assert_str_eq(out, "vm1/n1: no VF, use the bridge: ens1f0: 0 free of 1 VFs\n");
	free(out);
	free(err);
	cr_assert_eq(ctl_run(&d, &out, NULL, "alloc vm1 n1 --profile nice --json"), 0);
	o = parse_json(out);
	cr_assert(json_object_object_get_ex(o, "bridge", &v) && json_object_get_boolean(v));
	json_object_put(o);
	free(out);
	/* mandatory, no VF left: a failure */
	cr_assert_eq(ctl_run(&d, &out, &err, "alloc vm1 n2 --profile fast"), 1);
	cr_assert_str_eq(err, "vfpoolctl alloc: vm1/n2: ens1f0: 0 free of 1 VFs\n");
	free(out);
	free(err);
	/* the lease made through the profile protects it */
	cr_assert_eq(ctl_run(&d, &out, &err, "profile set fast --passthrough preferred"), 1);
	cr_assert(strstr(err, "profile fast: passthrough mode cannot change while 1 lease uses it"),
		  "%s", err);
	free(out);
	free(err);
	cr_assert_eq(ctl_run(&d, &out, &err, "profile list"), 0);
	cr_assert(strstr(out, "fast network=red passthrough=mandatory port_mirroring=no qos=no "
			      "leases=1\n"), "%s", out);
	free(out);
	free(err);
	/* a network that is not the profile's, an unknown profile, neither given */
	cr_assert_eq(ctl_run(&d, &out, &err, "alloc vm1 n3 blue --profile fast"), 1);
	cr_assert_str_eq(err, "vfpoolctl alloc: vm1/n3: network blue is not profile fast's (red)\n");
	free(out);
	free(err);
	cr_assert_eq(ctl_run(&d, &out, &err, "alloc vm1 n3 --profile gold"), 1);
	cr_assert_str_eq(err, "vfpoolctl alloc: vm1/n3: profile gold not defined\n");
	free(out);
	free(err);
	cr_assert_eq(ctl_run(&d, &out, &err, "alloc vm1 n3"), 2);
	cr_assert(strstr(err, "NETWORK or --profile NAME is needed"), "%s", err);
	free(out);
	free(err);
	alloc_ok(&d, "release vm1 n0");
	alloc_ok(&d, "profile set fast --passthrough preferred");
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* issue 14: a profile's VF settings through vfpoolctl, shown by profile list; a bridge
 * profile refuses them, naming the one it cannot carry. */
Test(ctl_cli, profile_vf_settings_are_set_shown_and_refused_on_a_bridge_profile)
{
	struct test_daemon d;
	char *out, *err;

	test_daemon_start(&d, "1x2", NULL);
	alloc_ok(&d, "network add red");
	alloc_ok(&d, "profile add fast --network red --passthrough mandatory --trust on "
		     "--spoofchk off --link-state enable --max-tx-rate 10000 --min-tx-rate 1000");
	cr_assert_eq(ctl_run(&d, &out, NULL, "profile list"), 0);
	cr_assert_str_eq(out, "fast network=red passthrough=mandatory port_mirroring=no qos=no "
			      "trust=on spoofchk=off link-state=enable max-tx-rate=10000 "
			      "min-tx-rate=1000 leases=0\n");
	free(out);
	cr_assert_eq(ctl_run(&d, &out, &err, "profile add br --network red --passthrough none "
				      "--max-tx-rate 100"), 1);
	cr_assert_str_eq(err, "vfpoolctl profile add: profile br: not passthrough, no VF to "
			      "carry max-tx-rate 100\n");
	free(out);
	free(err);
	cr_assert_eq(ctl_run(&d, &out, &err, "profile add pm --network red --passthrough "
				      "preferred --port-mirroring"), 1);
	cr_assert_str_eq(err, "vfpoolctl profile add: profile pm: a passthrough profile cannot "
			      "have port mirroring\n");
	free(out);
	free(err);
	cr_assert_eq(ctl_run(&d, &out, &err, "profile set fast --link-state up"), 2);
	free(out);
	free(err);
	alloc_ok(&d, "profile set fast --trust off --max-tx-rate 0 --min-tx-rate 0");
	cr_assert_eq(ctl_run(&d, &out, NULL, "profile list"), 0);
	cr_assert_str_eq(out, "fast network=red passthrough=mandatory port_mirroring=no qos=no "
			      "trust=off spoofchk=off link-state=enable leases=0\n");
	free(out);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

static const char *json_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	cr_assert(json_object_object_get_ex(o, key, &v), "no \"%s\" in %s", key,
		  json_object_to_json_string(o));
	return json_object_get_string(v);
}

static struct json_object *json_get(struct json_object *o, const char *key)
{
	struct json_object *v;

	cr_assert(json_object_object_get_ex(o, key, &v), "no \"%s\" in %s", key,
		  json_object_to_json_string(o));
	return v;
}

/* The daemon's replies are structured: --json prints the daemon's document, whose data are
 * the fields its text says, and whose message is that text (one source for both). */
Test(ctl_cli, daemon_commands_answer_structured_data_with_json)
{
	struct test_daemon d;
	struct json_object *o, *data, *row, *pfs, *cfg;
	char *out, *text;

	test_daemon_start(&d, "2x4", NULL);
	alloc_ok(&d, "network add red --vlan 5 --label uplink");
	alloc_ok(&d, "profile add fast --network red --passthrough mandatory");
	alloc_ok(&d, "pf config ens1f1 --all-networks off");
	cr_assert_eq(ctl_run(&d, &text, NULL, "network list"), 0);
	cr_assert_eq(ctl_run(&d, &out, NULL, "--json network list"), 0);
	o = parse_json(out);
	cr_assert_eq(json_object_get_int(json_get(o, "status")), 0);
	cr_assert_str_eq(json_str(o, "message"), text, "message and text differ");
	data = json_get(o, "data");
	cr_assert_eq(json_object_array_length(data), 1u, "%s", out);
	row = json_object_array_get_idx(data, 0);
	cr_assert_str_eq(json_str(row, "name"), "red");
	cr_assert_eq(json_object_get_int(json_get(row, "vlan")), 5);
	cr_assert_str_eq(json_str(row, "label"), "uplink");
	pfs = json_get(row, "pfs");
	cr_assert_eq(json_object_array_length(pfs), 1u, "only ens1f0 serves red: %s", out);
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(pfs, 0)), "ens1f0");
	json_object_put(o);
	free(out);
	free(text);

	cr_assert_eq(ctl_run(&d, &out, NULL, "--json profile list"), 0);
	o = parse_json(out);
	row = json_object_array_get_idx(json_get(o, "data"), 0);
	cr_assert(row, "%s", out);
	cr_assert_str_eq(json_str(row, "name"), "fast");
	cr_assert_str_eq(json_str(row, "passthrough"), "mandatory");
	cr_assert(!json_object_get_boolean(json_get(row, "qos")));
	cr_assert_eq(json_object_get_int(json_get(row, "leases")), 0);
	json_object_put(o);
	free(out);

	cr_assert_eq(ctl_run(&d, &out, NULL, "--json pf show ens1f1"), 0);
	o = parse_json(out);
	cfg = json_get(json_get(o, "config"), "data");
	cr_assert(!json_object_get_boolean(json_get(cfg, "all_networks")), "%s", out);
	cr_assert_eq(json_object_array_length(json_get(cfg, "allowed")), 0u, "%s", out);
	json_object_put(o);
	free(out);

	/* a command that only says what it did: data is null */
	cr_assert_eq(ctl_run(&d, &out, NULL, "--json ping"), 0);
	o = parse_json(out);
	cr_assert_str_eq(json_str(o, "message"), "pong");
	cr_assert(json_object_object_get_ex(o, "data", &data) && data == NULL, "%s", out);
	json_object_put(o);
	free(out);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* Over the library: any client asking --json gets the same document, escaped by json-c. */
Test(ctl_cli, lease_list_reply_is_a_json_document_with_the_leases)
{
	struct test_daemon d;
	struct json_object *o, *data, *row;
	const char *argv[] = { "lease", "list", "--json" };
	struct vfpool *h;
	char *out = NULL;

	test_daemon_start(&d, "1x4", NULL);
	alloc_ok(&d, "alloc vm1 nic0 red");
	h = connect_ok(&d);
	cr_assert_eq(vfpool_command(h, 3, argv, &out), 0, "%s", out);
	o = parse_json(out);
	data = json_get(o, "data");
	cr_assert_eq(json_object_array_length(data), 1u, "%s", out);
	row = json_object_array_get_idx(data, 0);
	cr_assert_str_eq(json_str(row, "vm"), "vm1");
	cr_assert_str_eq(json_str(row, "vnic"), "nic0");
	cr_assert_str_eq(json_str(row, "network"), "red");
	cr_assert(!json_object_get_boolean(json_get(row, "pid_bound")));
	json_object_put(o);
	free(out);
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}
