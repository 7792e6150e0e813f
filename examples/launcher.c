/* SPDX-License-Identifier: MIT */
/*
 * A minimal VM launcher: asks vfpoold for one VF per vNIC and prints the QEMU arguments
 * that pass them through. Releases the leases again unless --keep (a real launcher keeps
 * them for the VM's lifetime and releases when the VM stops).
 *
 *   cc launcher.c $(pkg-config --cflags --libs vfpool) -o launcher
 *   ./launcher [--run-dir DIR] [--keep] VM NETWORK1 NETWORK2
 */
#include <stdio.h>
#include <string.h>

#include <vfpool/vfpool.h>

#define N_VNICS 2

static int usage(void)
{
	fprintf(stderr, "usage: launcher [--run-dir DIR] [--keep] VM NETWORK1 NETWORK2\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *run_dir = NULL, *vm, *networks[N_VNICS];
	static const char *const vnics[N_VNICS] = { "net0", "net1" };
	struct vfpool_lease leases[N_VNICS];
	struct vfpool *h;
	int keep = 0, i = 1, n = 0, r, status = 0;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--run-dir") == 0 && i + 1 < argc)
			run_dir = argv[++i];
		else if (strcmp(argv[i], "--keep") == 0)
			keep = 1;
		else
			return usage();
	}
	if (argc - i != 1 + N_VNICS)
		return usage();
	vm = argv[i];
	networks[0] = argv[i + 1];
	networks[1] = argv[i + 2];

	r = vfpool_connect(run_dir, NULL, &h);
	if (r < 0) {
		fprintf(stderr, "launcher: %s: %s\n", run_dir ? run_dir : VFPOOL_DEFAULT_RUN_DIR,
			vfpool_strerror(r));
		return 1;
	}
	for (n = 0; n < N_VNICS; n++) {
		/* VFPOOL_OPTS: sz set, every field not named zero (no NUMA preference) */
		struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req,
			.vm_id = vm, .vnic_id = vnics[n], .network = networks[n]);
		char why[160] = "";

		leases[n] = VFPOOL_OPTS(vfpool_lease);
		r = vfpool_alloc(h, &req, &leases[n], why, sizeof(why));
		if (r < 0) {
			/* the daemon's reason names the object; vfpool_strerror if it has none */
			fprintf(stderr, "launcher: %s/%s on %s: %s\n", vm, vnics[n], networks[n],
				why[0] ? why : vfpool_strerror(r));
			status = 1;
			break;
		}
	}
	if (!status)
		for (int k = 0; k < N_VNICS; k++)
			printf("-device vfio-pci,host=%s,id=%s\n", leases[k].pci_addr, vnics[k]);
	/* on failure, give back what was taken: a half-equipped VM does not start */
	if (status || !keep)
		for (int k = 0; k < n; k++)
			vfpool_release(h, vm, vnics[k], leases[k].generation, NULL, 0);
	vfpool_close(h);
	return status;
}
