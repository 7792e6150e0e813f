// SPDX-License-Identifier: MIT
/*
 * vfpool-k8s: the Kubernetes device plugin backed by vfpoold (man vfpool-k8s).
 */
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <getopt.h>
#include <string>
#include <unistd.h>

#include "client/k8s/log.h"
#include "client/k8s/plugin.h"

namespace {

void usage(FILE *f)
{
	fprintf(f,
		"usage: vfpool-k8s [OPTIONS]\n"
		"  --config FILE               pools (JSON); default /etc/vfpool/k8s.json if it\n"
		"                              exists, else one pool per PF driver\n"
		"  --run-dir DIR               vfpoold's run directory (/run/vfpool)\n"
		"  --device-plugin-dir DIR     the kubelet's (/var/lib/kubelet/device-plugins)\n"
		"  --pod-resources-socket PATH (/var/lib/kubelet/pod-resources/kubelet.sock)\n"
		"  --devinfo-dir DIR           device-info files\n"
		"                              (/var/run/k8s.cni.cncf.io/devinfo/dp)\n"
		"  --vfio-dir DIR              VFIO group nodes (/dev/vfio)\n"
		"  --reconcile-interval-ms N   ask PodResources this often (10000)\n"
		"  --grace-period-ms N         release a lease no pod held for this long (30000)\n"
		"  --timeout-ms N              the longest a request to vfpoold may take (5000)\n"
		"  --log-level LEVEL           err, warn, info (default), debug\n");
}

bool parse_ms(const char *opt, const char *s, unsigned min, unsigned *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > 86400000ul) {
		fprintf(stderr, "vfpool-k8s: --%s %s: not a number of milliseconds from %u to "
			"86400000\n", opt, s, min);
		return false;
	}
	*ret = (unsigned)v;
	return true;
}

} // namespace

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, nullptr, 'c' },
		{ "run-dir", required_argument, nullptr, 'r' },
		{ "device-plugin-dir", required_argument, nullptr, 'd' },
		{ "pod-resources-socket", required_argument, nullptr, 'p' },
		{ "devinfo-dir", required_argument, nullptr, 'i' },
		{ "vfio-dir", required_argument, nullptr, 'v' },
		{ "reconcile-interval-ms", required_argument, nullptr, 'R' },
		{ "grace-period-ms", required_argument, nullptr, 'g' },
		{ "timeout-ms", required_argument, nullptr, 't' },
		{ "log-level", required_argument, nullptr, 'l' },
		{ "help", no_argument, nullptr, 'h' },
		{ nullptr, 0, nullptr, 0 },
	};
	const char *default_config = "/etc/vfpool/k8s.json";
	vfk8s::Options o;
	bool have_config = false;
	sigset_t set;
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, nullptr)) != -1) {
		switch (c) {
		case 'c': o.config_path = optarg; have_config = true; break;
		case 'r': o.run_dir = optarg; break;
		case 'd': o.plugin_dir = optarg; break;
		case 'p': o.pod_resources = optarg; break;
		case 'i': o.devinfo_dir = optarg; break;
		case 'v': o.vfio_dir = optarg; break;
		case 'R':
			if (!parse_ms("reconcile-interval-ms", optarg, 10, &o.reconcile_ms))
				return 2;
			break;
		case 'g':
			if (!parse_ms("grace-period-ms", optarg, 0, &o.grace_ms))
				return 2;
			break;
		case 't':
			if (!parse_ms("timeout-ms", optarg, 10, &o.timeout_ms))
				return 2;
			break;
		case 'l': {
			vfk8s::Level l;

			if (!vfk8s::log_parse_level(optarg, &l)) {
				fprintf(stderr, "vfpool-k8s: --log-level %s: not err, warn, "
					"info or debug\n", optarg);
				return 2;
			}
			vfk8s::log_set_level(l);
			break;
		}
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (!have_config && access(default_config, F_OK) == 0)
		o.config_path = default_config;
	/* before any thread exists (gRPC starts its own): the signals come through a
	 * signalfd in the event loop, and nowhere else */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, nullptr);
	signal(SIGPIPE, SIG_IGN);
	return vfk8s::plugin_run(o);
}
