/* SPDX-License-Identifier: MIT */
/* vfpool-soak --seconds N --clients N [--build DIR]: see tests/soak/soak.h. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/daemon_socket.h"
#include "tests/soak/soak.h"
#include "vfpool/vfpool.h"

#define MAX_CLIENTS 64
#define SIM_HOST "4x16"

struct harness {
	char build[256];
	char run_dir[64];
	char state_dir[96];
	pid_t daemon;
	unsigned daemon_starts;
	unsigned clients;
	pid_t pids[MAX_CLIENTS];
	/* every client incarnation's log and VM, for the check */
	char *logs[1024];
	char *vms[1024];
	unsigned n_logs;
	unsigned client_kills, daemon_kills;
	uint64_t deadline_ns;
};

static int start_daemon(struct harness *h)
{
	char path[300], log[128], sock[128];

	snprintf(path, sizeof(path), "%s/vfpoold", h->build);
	snprintf(log, sizeof(log), "%s/daemon-%u.log", h->run_dir, h->daemon_starts++);
	/* the dead daemon's socket may take connects until its io_uring is torn down */
	snprintf(sock, sizeof(sock), "%s/vfpool.sock", h->run_dir);
	unlink(sock);
	h->daemon = fork();
	if (h->daemon < 0)
		return -errno;
	if (h->daemon == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(path, path, "--simulate", SIM_HOST, "--run-dir", h->run_dir, "--state-dir",
		      h->state_dir, "--spin-us", "0", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 1000; i++) {
		if (socket_accepts(h->run_dir))
			return 0;
		if (waitpid(h->daemon, NULL, WNOHANG) == h->daemon) {
			fprintf(stderr, "soak: vfpoold exited at start (see %s)\n", log);
			h->daemon = 0;
			return -ECHILD;
		}
		usleep(10000);
	}
	fprintf(stderr, "soak: vfpoold did not open its socket (see %s)\n", log);
	return -ETIMEDOUT;
}

static void kill_daemon(struct harness *h)
{
	kill(h->daemon, SIGKILL);
	waitpid(h->daemon, NULL, 0);
	h->daemon = 0;
}

static void spawn_client(struct harness *h, unsigned slot)
{
	unsigned id = h->n_logs;
	pid_t pid;

	if (id >= 1024)
		return;
	if (asprintf(&h->logs[id], "%s/client-%u.log", h->run_dir, id) < 0 ||
	    asprintf(&h->vms[id], "vm%u", id) < 0)
		exit(2);
	h->n_logs++;
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		soak_client_main(h->run_dir, h->logs[id], h->vms[id], 7919u * id + 1, h->deadline_ns);
	}
	h->pids[slot] = pid;
}

static void usage(void)
{
	fprintf(stderr, "usage: vfpool-soak [--seconds N] [--clients N] [--build DIR]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "clients", required_argument, NULL, 'c' },
		{ "build", required_argument, NULL, 'b' },
		{ 0 },
	};
	static struct harness h;
	struct soak_result res = { 0 };
	unsigned seconds = 60;
	char *before, *after, self[256];
	int c;

	h.clients = 4;
	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(h.build, sizeof(h.build), "%s", dirname(self));
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 's': seconds = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'c': h.clients = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'b': snprintf(h.build, sizeof(h.build), "%s", optarg); break;
		default: usage();
		}
	}
	if (seconds == 0 || seconds > 3600 || h.clients == 0 || h.clients > MAX_CLIENTS)
		usage();
	snprintf(h.run_dir, sizeof(h.run_dir), "/tmp/vfpool-soak.XXXXXX");
	if (!mkdtemp(h.run_dir)) {
		perror("soak: mkdtemp");
		return 2;
	}
	snprintf(h.state_dir, sizeof(h.state_dir), "%s/persist", h.run_dir);
	mkdir(h.state_dir, 0755);
	srand((unsigned)getpid());
	if (start_daemon(&h))
		return 1;
	h.deadline_ns = soak_now_ns() + (uint64_t)seconds * 1000000000u;
	for (unsigned i = 0; i < h.clients; i++)
		spawn_client(&h, i);
	/* chaos until the deadline: every 100-600 ms, kill a client (and start a new one) or,
	 * one time in four, the daemon (restarted in the same run dir) */
	while (soak_now_ns() + 700000000u < h.deadline_ns) {
		usleep(100000 + (unsigned)(rand() % 500) * 1000);
		if (rand() % 4 == 0) {
			kill_daemon(&h);
			h.daemon_kills++;
			usleep((unsigned)(rand() % 200) * 1000);
			if (start_daemon(&h))
				return 1;
		} else {
			unsigned slot = (unsigned)rand() % h.clients;

			kill(h.pids[slot], SIGKILL);
			waitpid(h.pids[slot], NULL, 0);
			h.client_kills++;
			spawn_client(&h, slot);
		}
	}
	/* the clients stop on their own at the deadline; one stuck past it is killed (its
	 * last operation then counts as unknown) */
	for (unsigned i = 0; i < h.clients; i++) {
		int st = 0;

		for (int k = 0; k < 3000 && waitpid(h.pids[i], &st, WNOHANG) == 0; k++)
			usleep(10000);
		if (waitpid(h.pids[i], &st, WNOHANG) == 0) {
			kill(h.pids[i], SIGKILL);
			waitpid(h.pids[i], NULL, 0);
		}
	}
	soak_check(h.run_dir, h.logs, h.vms, h.n_logs, &res);
	/* the journal: one more SIGKILL, and the restarted daemon must give back the same */
	before = soak_lease_table(h.run_dir);
	kill_daemon(&h);
	if (start_daemon(&h))
		return 1;
	after = soak_lease_table(h.run_dir);
	if (before && after && strcmp(before, after) == 0) {
		res.passed++;
	} else {
		res.failed++;
		printf("soak: FAIL the journal gave back other leases than the snapshot showed\n");
	}
	soak_check(h.run_dir, h.logs, h.vms, h.n_logs, &res);
	free(before);
	free(after);
	kill(h.daemon, SIGTERM);
	{
		int st = 0;

		waitpid(h.daemon, &st, 0);
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			res.passed++;
		} else {
			res.failed++;
			printf("soak: FAIL vfpoold did not shut down cleanly (status %d)\n", st);
		}
	}
	printf("soak: %u clients (%u incarnations, %u killed), %u daemon kills, %u s\n",
	       h.clients, h.n_logs, h.client_kills, h.daemon_kills, seconds);
	printf("soak: %u passed, %u failed\n", res.passed, res.failed);
	if (res.failed == 0) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h.run_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "soak: could not remove %s\n", h.run_dir);
	} else {
		printf("soak: logs kept in %s\n", h.run_dir);
	}
	for (unsigned i = 0; i < h.n_logs; i++) {
		free(h.logs[i]);
		free(h.vms[i]);
	}
	return res.failed ? 1 : 0;
}
