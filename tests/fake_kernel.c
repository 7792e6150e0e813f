/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/fake_kernel.h"

#define MAX_PFS 8

/* <testbed root><syspath>/<name>: the testbed's real file (the root dir string is ours) */
static char *root_path(UMockdevTestbed *tb, const char *syspath, const char *name)
{
	char *root = umockdev_testbed_get_root_dir(tb);
	char *p = g_strdup_printf("%s%s/%s", root, syspath, name);

	g_free(root);
	return p;
}

static unsigned read_num(UMockdevTestbed *tb, const char *syspath, const char *attr)
{
	char *p = root_path(tb, syspath, attr);
	char buf[32] = "";
	FILE *f = fopen(p, "re");
	unsigned v = 0;

	if (f) {
		if (!fgets(buf, sizeof(buf), f) || sscanf(buf, "%u", &v) != 1)
			v = 0;
		fclose(f);
	}
	g_free(p);
	return v;
}

static void unlink_link(UMockdevTestbed *tb, const char *syspath, const char *name)
{
	char *p = root_path(tb, syspath, name);

	unlink(p);
	g_free(p);
}

void fake_kernel_apply(UMockdevTestbed *tb, const char *pf_syspath)
{
	unsigned want = read_num(tb, pf_syspath, "sriov_numvfs");
	unsigned total = read_num(tb, pf_syspath, "sriov_totalvfs");
	unsigned offset = read_num(tb, pf_syspath, "sriov_offset");
	unsigned stride = read_num(tb, pf_syspath, "sriov_stride");
	const char *pf_name = strrchr(pf_syspath, '/') + 1;
	char *parent = g_path_get_dirname(pf_syspath);
	unsigned domain, bus, dev, fn;

	cr_assert_eq(sscanf(pf_name, "%x:%x:%x.%x", &domain, &bus, &dev, &fn), 4);
	/* the kernel removes every VF first; a nonzero write over nonzero VFs is EBUSY there,
	 * the daemon never does it */
	for (unsigned i = 0; i < total; i++) {
		char link[32], *target, *vf;
		char *lp;

		snprintf(link, sizeof(link), "virtfn%u", i);
		lp = root_path(tb, pf_syspath, link);
		target = g_file_read_link(lp, NULL);
		g_free(lp);
		if (!target)
			continue;
		if (want > 0) {
			g_free(target);
			goto out; /* VFs exist and a nonzero value was written: nothing to do */
		}
		vf = g_strdup_printf("%s/%s", parent, strrchr(target, '/') + 1);
		umockdev_testbed_uevent(tb, vf, "remove");
		umockdev_testbed_remove_device(tb, vf);
		unlink_link(tb, pf_syspath, link);
		g_free(vf);
		g_free(target);
	}
	for (unsigned i = 0; i < want; i++) {
		unsigned rid = (bus << 8 | dev << 3 | fn) + offset + i * stride;
		char addr[32], link[32], *s, *vf;
		GError *err = NULL;

		snprintf(addr, sizeof(addr), "%04x:%02x:%02x.%u", domain, rid >> 8, (rid >> 3) & 31,
			 rid & 7);
		vf = g_strdup_printf("%s/%s", parent, addr);
		s = g_strdup_printf("P: %s\nE: SUBSYSTEM=pci\nE: PCI_SLOT_NAME=%s\n"
				    "A: vendor=0x8086\nA: device=0x154c\nL: physfn=../%s\n"
				    "L: iommu_group=../../../../kernel/iommu_groups/%u\n",
				    vf + strlen("/sys"), addr, pf_name, 1000 + rid);
		cr_assert(umockdev_testbed_add_from_string(tb, s, &err), "%s",
			  err ? err->message : "");
		snprintf(link, sizeof(link), "virtfn%u", i);
		g_free(s);
		s = g_strdup_printf("../%s", addr);
		umockdev_testbed_set_attribute_link(tb, pf_syspath, link, s);
		/* the add that counts comes after the links exist, like the kernel's */
		umockdev_testbed_uevent(tb, vf, "add");
		g_free(s);
		g_free(vf);
	}
out:
	g_free(parent);
}

struct fake_kernel {
	UMockdevTestbed *tb;
	pthread_t thread;
	int inotify_fd, stop_fd;
	size_t n;
	int wd[MAX_PFS];
	char *pf[MAX_PFS];
	unsigned writes[MAX_PFS];
	char values[MAX_PFS][FAKE_KERNEL_VALUES_MAX];
};

static void *kernel_main(void *arg)
{
	struct fake_kernel *k = arg;
	struct pollfd p[2] = { { .fd = k->inotify_fd, .events = POLLIN },
			       { .fd = k->stop_fd, .events = POLLIN } };
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	while (poll(p, 2, -1) > 0 && !(p[1].revents & POLLIN)) {
		ssize_t len = read(k->inotify_fd, buf, sizeof(buf));

		for (char *c = buf; len > 0 && c < buf + len;) {
			const struct inotify_event *ev = (const struct inotify_event *)c;

			for (size_t i = 0; i < k->n; i++)
				if (ev->wd == k->wd[i]) {
					size_t used = strlen(k->values[i]);

					/* each write is applied before the daemon writes again (it
					 * waits for the uevents), so the file holds this write */
					snprintf(k->values[i] + used, sizeof(k->values[i]) - used,
						 "%s%u", used ? " " : "",
						 read_num(k->tb, k->pf[i], "sriov_numvfs"));
					k->writes[i]++;
					fake_kernel_apply(k->tb, k->pf[i]);
				}
			c += sizeof(*ev) + ev->len;
		}
	}
	return NULL;
}

struct fake_kernel *fake_kernel_start(UMockdevTestbed *tb, const char *const *pf_syspaths,
				      size_t n)
{
	struct fake_kernel *k = calloc(1, sizeof(*k));

	cr_assert(k && n <= MAX_PFS);
	k->tb = tb;
	k->n = n;
	k->inotify_fd = inotify_init1(IN_CLOEXEC);
	k->stop_fd = eventfd(0, EFD_CLOEXEC);
	cr_assert(k->inotify_fd >= 0 && k->stop_fd >= 0);
	for (size_t i = 0; i < n; i++) {
		/* the testbed's real path: the watch is on what the daemon's write lands in */
		char *p = root_path(tb, pf_syspaths[i], "sriov_numvfs");

		k->pf[i] = g_strdup(pf_syspaths[i]);
		k->wd[i] = inotify_add_watch(k->inotify_fd, p, IN_CLOSE_WRITE);
		cr_assert(k->wd[i] >= 0, "inotify on %s: %s", p, strerror(errno));
		g_free(p);
	}
	cr_assert_eq(pthread_create(&k->thread, NULL, kernel_main, k), 0);
	return k;
}

static void stop(struct fake_kernel *k, unsigned *writes,
		 char (*values)[FAKE_KERNEL_VALUES_MAX])
{
	uint64_t one = 1;

	cr_assert_eq(write(k->stop_fd, &one, sizeof(one)), (ssize_t)sizeof(one));
	pthread_join(k->thread, NULL);
	for (size_t i = 0; i < k->n; i++) {
		if (writes)
			writes[i] = k->writes[i];
		if (values)
			memcpy(values[i], k->values[i], sizeof(values[i]));
		g_free(k->pf[i]);
	}
	close(k->inotify_fd);
	close(k->stop_fd);
	free(k);
}

void fake_kernel_stop(struct fake_kernel *k, unsigned *writes)
{
	stop(k, writes, NULL);
}

void fake_kernel_stop_values(struct fake_kernel *k, char (*values)[FAKE_KERNEL_VALUES_MAX])
{
	stop(k, NULL, values);
}
