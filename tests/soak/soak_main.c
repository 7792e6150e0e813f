/* SPDX-License-Identifier: MIT */
/* vfpool-soak --seconds N --clients N [--hostile N] [--build DIR] [--daemon PATH]:
 * see tests/soak/soak.h. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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
#define MAX_LOGS 4096
#define SIM_HOST "4x16"

struct harness {
	char daemon_path[256];
	char run_dir[64];
	char state_dir[96];
	pid_t daemon;
	unsigned daemon_starts;
	unsigned clients, hostiles;
	pid_t pids[MAX_CLIENTS];
	unsigned log_of[MAX_CLIENTS]; /* the slot's current incarnation */
	pid_t hostile_pids[MAX_CLIENTS];
	/* every well-behaved client incarnation, for the checks */
	struct soak_log logs[MAX_LOGS];
	unsigned n_logs;
	unsigned client_kills, hostile_kills, hostile_starts, daemon_kills, retired;
	uint64_t deadline_ns;
	struct soak_counts *counts;
	struct soak_result res;
};

static void daemon_log_path(const struct harness *h, unsigned k, char *buf, size_t len)
{
	snprintf(buf, len, "%s/daemon-%u.log", h->run_dir, k);
}

/* A sanitizer's report in a daemon's stderr fails the soak, wherever it came from. */
static void scan_daemon_log(struct harness *h, unsigned k)
{
	static const char *const marks[] = { "ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
					     "runtime error:", "UndefinedBehaviorSanitizer",
					     "AddressSanitizer:DEADLYSIGNAL" };
	char path[128], line[512];
	FILE *f;

	daemon_log_path(h, k, path, sizeof(path));
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
			if (!strstr(line, marks[i]))
				continue;
			h->res.failed++;
			printf("soak: FAIL sanitizer report in %s: %s", path, line);
			fclose(f);
			return;
		}
	}
	h->res.passed++;
	fclose(f);
}

static int start_daemon(struct harness *h)
{
	char log[128], sock[128];

	daemon_log_path(h, h->daemon_starts++, log, sizeof(log));
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
		/* for a sanitized daemon: leaks are reported at the clean stop, the first
		 * UBSan error stops it (and both land in its log, scanned at the end) */
		setenv("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0", 0);
		setenv("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1", 0);
		execl(h->daemon_path, h->daemon_path, "--simulate", SIM_HOST, "--run-dir",
		      h->run_dir, "--state-dir", h->state_dir, "--spin-us", "0", (char *)NULL);
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

/* A daemon that ended without being killed crashed (or a sanitizer stopped it): a failure,
 * and a new one is started so the soak goes on. */
static int reap_dead_daemon(struct harness *h)
{
	int st;

	if (waitpid(h->daemon, &st, WNOHANG) != h->daemon)
		return 0;
	h->res.failed++;
	printf("soak: FAIL vfpoold died on its own (%s %d); see %s/daemon-%u.log\n",
	       WIFSIGNALED(st) ? "signal" : "exit status", WIFSIGNALED(st) ? WTERMSIG(st)
							      : WEXITSTATUS(st),
	       h->run_dir, h->daemon_starts - 1);
	h->daemon = 0;
	return start_daemon(h);
}

static void kill_daemon(struct harness *h)
{
	int st = 0;

	kill(h->daemon, SIGKILL);
	waitpid(h->daemon, &st, 0);
	/* it may have died just before our signal: then of something else */
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL) {
		h->res.failed++;
		printf("soak: FAIL vfpoold died on its own (status %d); see %s/daemon-%u.log\n", st,
		       h->run_dir, h->daemon_starts - 1);
	}
	h->daemon = 0;
}

static void spawn_client(struct harness *h, unsigned slot)
{
	unsigned id = h->n_logs;
	pid_t pid;

	if (id >= MAX_LOGS)
		return;
	if (asprintf(&h->logs[id].path, "%s/client-%u.log", h->run_dir, id) < 0 ||
	    asprintf(&h->logs[id].vm, "vm%u", id) < 0)
		exit(2);
	h->n_logs++;
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		soak_client_main(h->run_dir, h->logs[id].path, h->logs[id].vm, 7919u * id + 1,
				 h->deadline_ns);
	}
	h->pids[slot] = pid;
	h->log_of[slot] = id;
}

static void spawn_hostile(struct harness *h, unsigned slot)
{
	pid_t pid = fork();

	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		soak_hostile_main(h->run_dir, 104729u * h->hostile_starts + 7, h->deadline_ns,
				  h->counts);
	}
	h->hostile_pids[slot] = pid;
	h->hostile_starts++;
}

/* The operator's view of a VM that is gone: release all it holds. 0 or why not. */
static int lease_gc(const struct harness *h, const char *vm, char **ret_out)
{
	const char *words[] = { "lease", "gc", vm };
	struct vfpool_opts o = { .sz = sizeof(o), .timeout_ms = 10000 };
	struct vfpool *c;
	int r;

	*ret_out = NULL;
	r = vfpool_connect(h->run_dir, &o, &c);
	if (r < 0)
		return r;
	r = vfpool_command(c, 3, words, ret_out);
	vfpool_close(c);
	return r;
}

/* A killed client: its log is checked against the daemon now, then its VM is released, so
 * the pool keeps VFs to hand out however many clients die. */
static void retire_client(struct harness *h, unsigned id)
{
	struct soak_log *log = &h->logs[id];
	char *out = NULL;
	int r;

	soak_check_retiring(h->run_dir, log, &h->res);
	r = lease_gc(h, log->vm, &out);
	log->retired = true;
	h->retired++;
	if (r < 0) {
		/* the daemon was alive and asked by root: a refusal is its failure. What the
		 * VM still holds is unknown now: nothing of it is checked any more. */
		h->res.failed++;
		printf("soak: FAIL lease gc %s: %s%s%s\n", log->vm, vfpool_strerror(r),
		       out ? ": " : "", out ? out : "");
		for (unsigned i = 0; i < SOAK_VNICS; i++)
			log->pending_at_retire[i] = true;
	}
	free(out);
}

static void kill_client(struct harness *h, unsigned slot)
{
	kill(h->pids[slot], SIGKILL);
	waitpid(h->pids[slot], NULL, 0);
	h->client_kills++;
	retire_client(h, h->log_of[slot]);
	spawn_client(h, slot);
}

/* Hostile clients also kill themselves (mid-chain): those are started again. */
static void respawn_dead_hostiles(struct harness *h)
{
	for (unsigned i = 0; i < h->hostiles; i++)
		if (waitpid(h->hostile_pids[i], NULL, WNOHANG) == h->hostile_pids[i])
			spawn_hostile(h, i);
}

static void stop_all(struct harness *h)
{
	/* the clients stop on their own at the deadline; one stuck past it is killed (its
	 * last operation then counts as unknown) */
	for (unsigned i = 0; i < h->clients + h->hostiles; i++) {
		pid_t pid = i < h->clients ? h->pids[i] : h->hostile_pids[i - h->clients];
		int st = 0;

		for (int k = 0; k < 3000 && waitpid(pid, &st, WNOHANG) == 0; k++)
			usleep(10000);
		if (waitpid(pid, &st, WNOHANG) == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: vfpool-soak [--seconds N] [--clients N] [--hostile N] "
			"[--build DIR] [--daemon PATH]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "clients", required_argument, NULL, 'c' },
		{ "hostile", required_argument, NULL, 'H' },
		{ "build", required_argument, NULL, 'b' },
		{ "daemon", required_argument, NULL, 'd' },
		{ 0 },
	};
	static struct harness h;
	unsigned seconds = 60;
	char *before, *after, self[256], build[200];
	int c;

	h.clients = 4;
	h.hostiles = 2;
	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(build, sizeof(build), "%s", dirname(self));
	snprintf(h.daemon_path, sizeof(h.daemon_path), "%s/vfpoold", build);
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 's': seconds = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'c': h.clients = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'H': h.hostiles = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'b':
			snprintf(h.daemon_path, sizeof(h.daemon_path), "%.200s/vfpoold", optarg);
			break;
		case 'd': snprintf(h.daemon_path, sizeof(h.daemon_path), "%s", optarg); break;
		default: usage();
		}
	}
	if (seconds == 0 || seconds > 3600 || h.clients == 0 || h.clients > MAX_CLIENTS ||
	    h.hostiles > MAX_CLIENTS)
		usage();
	if (access(h.daemon_path, X_OK) < 0) {
		fprintf(stderr, "soak: %s: %s\n", h.daemon_path, strerror(errno));
		return 2;
	}
	h.counts = mmap(NULL, sizeof(*h.counts), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (h.counts == MAP_FAILED) {
		perror("soak: mmap");
		return 2;
	}
	/* TMPDIR=/dev/shm: the run dir (and the lease journal in it) on tmpfs, as on a real
	 * host, where the journal is appended through its mapping */
	snprintf(h.run_dir, sizeof(h.run_dir), "%s/vfpool-soak.XXXXXX",
		 getenv("TMPDIR") && strlen(getenv("TMPDIR")) < 64 ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(h.run_dir)) {
		perror("soak: mkdtemp");
		return 2;
	}
	snprintf(h.state_dir, sizeof(h.state_dir), "%s/persist", h.run_dir);
	mkdir(h.state_dir, 0755);
	srand((unsigned)getpid());
	printf("soak: %s, %u s, %u clients, %u hostile, run dir %s\n", h.daemon_path, seconds,
	       h.clients, h.hostiles, h.run_dir);
	fflush(stdout);
	if (start_daemon(&h))
		return 1;
	h.deadline_ns = soak_now_ns() + (uint64_t)seconds * 1000000000u;
	for (unsigned i = 0; i < h.clients; i++)
		spawn_client(&h, i);
	for (unsigned i = 0; i < h.hostiles; i++)
		spawn_hostile(&h, i);
	/* chaos until the deadline: every 100-600 ms, kill a client (checked, its VM released,
	 * a new one started), a hostile client, or, one time in four, the daemon (restarted in
	 * the same run dir) */
	while (soak_now_ns() + 700000000u < h.deadline_ns) {
		unsigned what = (unsigned)rand() % 8;

		usleep(100000 + (unsigned)(rand() % 500) * 1000);
		respawn_dead_hostiles(&h);
		if (reap_dead_daemon(&h))
			return 1;
		if (what < 2) {
			kill_daemon(&h);
			h.daemon_kills++;
			usleep((unsigned)(rand() % 200) * 1000);
			if (start_daemon(&h))
				return 1;
		} else if (what < 3 && h.hostiles) {
			unsigned slot = (unsigned)rand() % h.hostiles;

			kill(h.hostile_pids[slot], SIGKILL);
			waitpid(h.hostile_pids[slot], NULL, 0);
			h.hostile_kills++;
			spawn_hostile(&h, slot);
		} else {
			kill_client(&h, (unsigned)rand() % h.clients);
		}
	}
	stop_all(&h);
	if (reap_dead_daemon(&h))
		return 1;
	soak_check(h.run_dir, h.logs, h.n_logs, &h.res);
	/* the journal: one more SIGKILL, and the restarted daemon must give back the same */
	before = soak_lease_table(h.run_dir);
	kill_daemon(&h);
	if (start_daemon(&h))
		return 1;
	after = soak_lease_table(h.run_dir);
	if (before && after && strcmp(before, after) == 0) {
		h.res.passed++;
	} else {
		h.res.failed++;
		printf("soak: FAIL the journal gave back other leases than the snapshot showed\n");
	}
	soak_check(h.run_dir, h.logs, h.n_logs, &h.res);
	free(before);
	free(after);
	kill(h.daemon, SIGTERM);
	{
		int st = 0;

		waitpid(h.daemon, &st, 0);
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			h.res.passed++;
		} else {
			h.res.failed++;
			printf("soak: FAIL vfpoold did not shut down cleanly (status %d)\n", st);
		}
	}
	for (unsigned k = 0; k < h.daemon_starts; k++)
		scan_daemon_log(&h, k);
	printf("soak: %u s: %u clients (%u incarnations, %u killed, %u retired by lease gc), "
	       "%u hostile (%u incarnations, %u killed, %llu died mid-chain)\n",
	       seconds, h.clients, h.n_logs, h.client_kills, h.retired, h.hostiles,
	       h.hostile_starts, h.hostile_kills,
	       (unsigned long long)atomic_load(&h.counts->midchain_deaths));
	printf("soak: hostile: %llu malformed chains, %llu scribbles on indices and header, "
	       "%llu runs of wrong summary bits, %llu connects\n",
	       (unsigned long long)atomic_load(&h.counts->malformed_chains),
	       (unsigned long long)atomic_load(&h.counts->scribbles),
	       (unsigned long long)atomic_load(&h.counts->summary_scribbles),
	       (unsigned long long)atomic_load(&h.counts->hostile_connects));
	printf("soak: %u passed, %u failed: %u daemon kills survived, %llu leases checked, "
	       "%llu hostile entries sent\n", h.res.passed, h.res.failed, h.daemon_kills,
	       (unsigned long long)h.res.leases_checked,
	       (unsigned long long)atomic_load(&h.counts->hostile_entries));
	if (h.res.failed == 0) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h.run_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "soak: could not remove %s\n", h.run_dir);
	} else {
		printf("soak: logs kept in %s\n", h.run_dir);
	}
	for (unsigned i = 0; i < h.n_logs; i++) {
		free(h.logs[i].path);
		free(h.logs[i].vm);
	}
	return h.res.failed ? 1 : 0;
}
