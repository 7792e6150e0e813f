/* SPDX-License-Identifier: MIT */
#define _XOPEN_SOURCE 700 /* nftw's FTW_DEPTH/FTW_PHYS */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/daemon.h"
#include "bench/scenario.h"

#define START_TIMEOUT_MS 5000
#define STOP_TIMEOUT_MS  3000

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* build/vfpoold sits next to build/vfpool-bench. */
static int daemon_path(char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t k = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (k < 0)
		return -errno;
	self[k] = '\0';
	if ((size_t)snprintf(buf, len, "%s/vfpoold", dirname(self)) >= len)
		return -ENAMETOOLONG;
	return access(buf, X_OK) == 0 ? 0 : -errno;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 ? 0 : 0; /* best effort: a leftover tmp dir is harmless */
}

static void print_log_tail(const char *log)
{
	char line[512];
	FILE *f = fopen(log, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "  vfpoold: %s", line);
	fclose(f);
}

const char *bench_journal_fs(void)
{
	return access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
}

#define MAX_EXTRA 8

/* In the child: pin, send output to the log, exec. Only async-signal-safe calls. */
static void exec_daemon(const struct bench_daemon *d, const char *path, char *const *argv,
			int cpu)
{
	int fd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
	}
	execv(path, argv);
	_exit(127);
}

int bench_daemon_start(struct bench_daemon *d, const char *spec, unsigned spin_us, int cpu)
{
	return bench_daemon_start_ex(d, spec, spin_us, cpu, NULL);
}

int bench_daemon_start_ex(struct bench_daemon *d, const char *spec, unsigned spin_us, int cpu,
			  const char *const *extra)
{
	char path[PATH_MAX], spin[16], sock[160];
	const char *argv[10 + MAX_EXTRA];
	int phys_cpu = cpu >= 0 ? bench_cpu_id(cpu) : -1;
	int r = daemon_path(path, sizeof(path));
	size_t n = 0;

	memset(d, 0, sizeof(*d));
	d->pid = -1;
	if (r) {
		bench_error("no vfpoold next to this binary (%s): %s", path, strerror(-r));
		return r;
	}
	/* tmpfs, as /run is on a real host: the lease journal lives in the run dir */
	snprintf(d->dir, sizeof(d->dir), "%s/vfpool-bench.XXXXXX", bench_journal_fs());
	if (!mkdtemp(d->dir)) {
		r = -errno;
		bench_error("mkdtemp: %s", strerror(errno));
		return r;
	}
	snprintf(d->run_dir, sizeof(d->run_dir), "%s/run", d->dir);
	snprintf(d->state_dir, sizeof(d->state_dir), "%s/state", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/vfpoold.log", d->dir);
	snprintf(spin, sizeof(spin), "%u", spin_us);
	snprintf(sock, sizeof(sock), "%s/vfpool.sock", d->run_dir);
	mkdir(d->run_dir, 0755);
	mkdir(d->state_dir, 0755);
	argv[n++] = "vfpoold";
	argv[n++] = "--simulate";
	argv[n++] = spec;
	argv[n++] = "--run-dir";
	argv[n++] = d->run_dir;
	argv[n++] = "--state-dir";
	argv[n++] = d->state_dir;
	argv[n++] = "--spin-us";
	argv[n++] = spin;
	for (size_t i = 0; extra && extra[i] && i < MAX_EXTRA; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	fflush(NULL);
	d->pid = fork();
	if (d->pid < 0) {
		r = -errno;
		bench_error("fork: %s", strerror(errno));
		bench_daemon_stop(d);
		return r;
	}
	if (d->pid == 0)
		exec_daemon(d, path, (char *const *)argv, phys_cpu);
	for (unsigned waited = 0; waited < START_TIMEOUT_MS; waited += 5) {
		int status;

		if (access(sock, F_OK) == 0)
			return 0;
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			d->pid = -1;
			bench_error("vfpoold exited before creating its socket (status %d):",
				    status);
			print_log_tail(d->log);
			bench_daemon_stop(d);
			return -ECHILD;
		}
		sleep_ms(5);
	}
	bench_error("vfpoold did not create %s within %d ms", sock, START_TIMEOUT_MS);
	print_log_tail(d->log);
	bench_daemon_stop(d);
	return -ETIMEDOUT;
}

void bench_daemon_stop(struct bench_daemon *d)
{
	if (d->pid > 0) {
		int status;
		unsigned waited = 0;

		kill(d->pid, SIGTERM);
		while (waitpid(d->pid, &status, WNOHANG) == 0) {
			if (waited >= STOP_TIMEOUT_MS) {
				fprintf(stderr, "vfpool-bench: vfpoold ignored SIGTERM, killing\n");
				kill(d->pid, SIGKILL);
				waitpid(d->pid, &status, 0);
				break;
			}
			sleep_ms(5);
			waited += 5;
		}
		d->pid = -1;
	}
	if (d->dir[0])
		nftw(d->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	d->dir[0] = '\0';
}
