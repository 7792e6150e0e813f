/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/soak/soak.h"
#include "vfpool/vfpool.h"

uint64_t soak_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int log_fd = -1;

/* One write(2) per line: a SIGKILL between lines never leaves half of one. */
__attribute__((format(printf, 1, 2))) static void note(const char *fmt, ...)
{
	char line[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0 && write(log_fd, line, (size_t)n) != n)
		_exit(3);
}

/* The daemon stayed away or did not answer: what happened is unknown. */
static bool unknown(int r)
{
	return r == -ECONNRESET || r == -ETIMEDOUT || r == -EPIPE || r == -ECONNREFUSED;
}

static void do_alloc_vm(struct vfpool *h, const char *vm, const unsigned *idx, unsigned n)
{
	struct vfpool_vnic_req v[SOAK_VNICS];
	struct vfpool_lease l[SOAK_VNICS] = { [0 ... SOAK_VNICS - 1] =
						      VFPOOL_OPTS(vfpool_lease) };
	char names[SOAK_VNICS][8];
	int r;

	for (unsigned i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "nic%u", idx[i]);
		v[i] = VFPOOL_OPTS(vfpool_vnic_req, .vnic_id = names[i], .network = "red",
				   .numa_node = -1);
		note("B %s\n", names[i]);
	}
	r = n == 1 && (rand() & 1) ? vfpool_alloc(h, &VFPOOL_OPTS(vfpool_alloc_req,
					.vm_id = vm, .vnic_id = names[0], .network = "red",
					.numa_node = -1), &l[0], NULL, 0)
			       : vfpool_alloc_vm(h, vm, v, n, l, NULL, 0);
	for (unsigned i = 0; i < n; i++) {
		if (r == 0)
			note("A %s %s %llu\n", names[i], l[i].pci_addr,
			     (unsigned long long)l[i].generation);
		else if (unknown(r))
			note("U %s\n", names[i]);
		else
			note("F %s\n", names[i]);
	}
}

static void do_release(struct vfpool *h, const char *vm, unsigned idx)
{
	char name[8];
	int r;

	snprintf(name, sizeof(name), "nic%u", idx);
	note("B %s\n", name);
	r = vfpool_release(h, vm, name, 0, NULL, 0);
	if (r == 0 || r == -ENOENT)
		note("R %s\n", name);
	else if (unknown(r))
		note("U %s\n", name);
	else
		note("F %s\n", name);
}

void soak_client_main(const char *run_dir, const char *log_path, const char *vm,
		      unsigned seed, uint64_t deadline_ns)
{
	struct vfpool_opts o = { .sz = sizeof(o), .timeout_ms = 5000, .spin_us = 1 };
	struct vfpool *h = NULL;

	srand(seed);
	log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log_fd < 0)
		_exit(2);
	while (soak_now_ns() < deadline_ns) {
		unsigned op = (unsigned)rand() % 100, idx[SOAK_VNICS], n;

		if (!h && vfpool_connect(run_dir, &o, &h) < 0) {
			h = NULL;
			usleep(20000); /* the daemon is restarting */
			continue;
		}
		usleep(200); /* the host's cores are shared: stress the daemon, not the box */
		if (op < 60) {
			/* single alloc / hot plug (1 vNIC) or a multi-vNIC VM (2..3 vNICs) */
			n = op < 40 ? 1 : 2 + (unsigned)rand() % 2;
			for (unsigned i = 0; i < n; i++) {
				bool dup;

				do {
					idx[i] = (unsigned)rand() % SOAK_VNICS;
					dup = false;
					for (unsigned k = 0; k < i; k++)
						dup = dup || idx[k] == idx[i];
				} while (dup);
			}
			do_alloc_vm(h, vm, idx, n);
		} else {
			do_release(h, vm, (unsigned)rand() % SOAK_VNICS);
		}
	}
	vfpool_close(h);
	_exit(0);
}
