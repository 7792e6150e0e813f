/* SPDX-License-Identifier: MIT */
/*
 * Every command vfpoolctl takes, the daemon's included, in the groups of the README's
 * table: what it takes, what it does, who runs it. main.c parses against this table and
 * --help prints it; a command is reachable exactly when it is here.
 */
#include <string.h>

#include <json-c/json.h>

#include "client/vfpoolctl/cmds.h"
#include "client/vfpoolctl/format_text.h"

#define FLAG(n, h) { .name = n, .help = h, .kind = CTL_OPT_FLAG }
#define TEXT(n, a, h) { .name = n, .arg = a, .help = h, .kind = CTL_OPT_TEXT }
#define NUMBER(n, a, m, h) { .name = n, .arg = a, .help = h, .kind = CTL_OPT_NUMBER, .max = m }
#define CHOICE(n, a, h) { .name = n, .arg = a, .help = h, .kind = CTL_OPT_CHOICE }
/* the same, for an option the command cannot do without */
#define TEXT_NEEDED(n, a, h) \
	{ .name = n, .arg = a, .help = h, .kind = CTL_OPT_TEXT, .required = true }
#define NUMBER_NEEDED(n, a, m, h) \
	{ .name = n, .arg = a, .help = h, .kind = CTL_OPT_NUMBER, .max = m, .required = true }
#define CHOICE_NEEDED(n, a, h) \
	{ .name = n, .arg = a, .help = h, .kind = CTL_OPT_CHOICE, .required = true }

/* The daemon's limits for what it checks again itself (core/policy.h, core/request.c). */
#define MAX_VLAN 4094u
#define MAX_MTU 65535u
#define MAX_NUMVFS 65535u
#define MAX_TX_RATE 10000000u /* Mbit/s */

/* A profile's VF settings, applied with each lease and restored at its end */
#define VF_SETTINGS \
	CHOICE("trust", "on|off", "the VF may change its MAC, go promiscuous (default off)"), \
	CHOICE("spoofchk", "on|off", "drop frames the VF sends from other MACs (default on)"), \
	CHOICE("link-state", "auto|enable|disable", "the VF's link as the VM sees it (auto)"), \
	NUMBER("max-tx-rate", "MBPS", MAX_TX_RATE, "the VF's TX rate limit (0: none)"), \
	NUMBER("min-tx-rate", "MBPS", MAX_TX_RATE, "the VF's guaranteed TX rate (0: none)")

const char *const ctl_group_names[CTL_GROUP_NR] = {
	[CTL_GROUP_INSPECT] = "Inspect",
	[CTL_GROUP_POLICY] = "Policy (root or the admin group)",
	[CTL_GROUP_HOST] = "Host (root or the admin group)",
	[CTL_GROUP_LEASES] = "Leases",
	[CTL_GROUP_OTHER] = "Other",
};

static const char *const group_keys[CTL_GROUP_NR] = { "inspect", "policy", "host", "leases",
						      "other" };

const struct ctl_cmd ctl_commands[] = {
	/* ---- inspect: the snapshot, read without asking the daemon ---- */
	{ { "snapshot" }, "", 0, 0, { FLAG("all", "list free VFs too") },
	  "PFs, VFs, leases and the daemon's counters, from the state segment",
	  CTL_GROUP_INSPECT, false, cmd_snapshot },
	{ { "watch" }, "", 0, 0,
	  { NUMBER("interval", "MS", 3600000, "redraw every MS milliseconds (10..3600000; 1000)"),
	    NUMBER("count", "N", 1000000, "stop after N frames (1..1000000)"),
	    FLAG("all", "list free VFs too") },
	  "the snapshot, redrawn until Ctrl-C to fit the terminal",
	  CTL_GROUP_INSPECT, false, cmd_watch },
	{ { "pf", "list" }, "", 0, 0, { { 0 } }, "PFs and their VFs' states, from the state segment",
	  CTL_GROUP_INSPECT, false, cmd_pf_list },
	{ { "pf", "show" }, "PF", 1, 1, { { 0 } },
	  "a PF (netdev, PCI address or index), its VFs and its VFs config",
	  CTL_GROUP_INSPECT, false, cmd_pf_show },
	{ { "lease", "list" }, "", 0, 0, { TEXT("vm", "VM", "only this VM's leases") },
	  "leases, from the state segment", CTL_GROUP_INSPECT, false, cmd_lease_list },
	{ { "capacity" }, "", 0, 0, { TEXT("network", "NETWORK", "only this network") },
	  "free VFs per network, PF and NUMA node", CTL_GROUP_INSPECT, false, cmd_capacity },
	{ { "metrics" }, "", 0, 0,
	  { TEXT("textfile", "DIR", "write DIR/vfpool.prom (for node_exporter)") },
	  "the snapshot in Prometheus text format", CTL_GROUP_INSPECT, false, cmd_metrics },
	{ { "doctor" }, "", 0, 0, { { 0 } },
	  "can this host pass VFs through? (local; exit 0, 3 warnings, 4 failed)",
	  CTL_GROUP_INSPECT, false, cmd_doctor },
	{ { "network", "list" }, "", 0, 0, { { 0 } },
	  "networks and the PFs allowed to serve each", CTL_GROUP_INSPECT, false, cmd_daemon },
	{ { "profile", "list" }, "", 0, 0, { { 0 } }, "vNIC profiles and their leases",
	  CTL_GROUP_INSPECT, false, cmd_daemon },
	{ { "vm", "migrate-check" }, "VM", 1, 1, { { 0 } },
	  "may the VM migrate? refused (exit 1) while it holds VFs", CTL_GROUP_INSPECT, false,
	  cmd_daemon },

	/* ---- policy ---- */
	{ { "network", "add" }, "NAME", 1, 1,
	  { NUMBER("vlan", "N", MAX_VLAN, "VLAN tag for its VFs (0: untagged)"),
	    NUMBER("mtu", "N", MAX_MTU, "MTU for its VFs (0: unchanged)"),
	    TEXT("label", "LABEL", "PFs carrying this label may serve it"),
	    FLAG("required", "accepted, ignored: a cluster matter"),
	    TEXT("role", "ROLE", "accepted, ignored: not a VF matter") },
	  "define a network", CTL_GROUP_POLICY, true, cmd_daemon },
	{ { "network", "del" }, "NAME", 1, 1, { { 0 } }, "delete a network", CTL_GROUP_POLICY,
	  true, cmd_daemon },
	{ { "profile", "add" }, "NAME", 1, 1,
	  { TEXT_NEEDED("network", "NETWORK", "the profile's network"),
	    CHOICE_NEEDED("passthrough", "none|mandatory|preferred",
			  "preferred: else the bridge"),
	    FLAG("port-mirroring", "port mirroring (recorded)"), FLAG("qos", "QoS (recorded)"),
	    CHOICE("placement", "default|spread|pack", "where its VFs go (default: the daemon's)"),
	    CHOICE("numa", "preferred|required", "the request's NUMA node: preferred or required"),
	    CHOICE("driver", "vfio-pci", "bind its leases' VFs to vfio-pci (managed)"),
	    VF_SETTINGS },
	  "define a vNIC profile", CTL_GROUP_POLICY, true, cmd_daemon },
	{ { "profile", "set" }, "NAME", 1, 1,
	  { TEXT("network", "NETWORK", "the profile's network"),
	    CHOICE("passthrough", "none|mandatory|preferred", "the passthrough mode"),
	    FLAG("port-mirroring", "port mirroring on"),
	    FLAG("no-port-mirroring", "port mirroring off"), FLAG("qos", "QoS on"),
	    FLAG("no-qos", "QoS off"),
	    CHOICE("placement", "default|spread|pack", "where its VFs go"),
	    CHOICE("numa", "preferred|required", "the request's NUMA node: preferred or required"),
	    CHOICE("driver", "vfio-pci|none", "vfio-pci: bind its leases' VFs (managed)"),
	    VF_SETTINGS },
	  "change a vNIC profile (refused while leases would change meaning)", CTL_GROUP_POLICY,
	  true, cmd_daemon },
	{ { "profile", "del" }, "NAME", 1, 1, { { 0 } }, "delete a vNIC profile",
	  CTL_GROUP_POLICY, true, cmd_daemon },
	{ { "pf", "config" }, "PF", 1, 1,
	  { CHOICE_NEEDED("all-networks", "on|off",
			  "on: serve every network") },
	  "a PF's VFs config", CTL_GROUP_POLICY, true, cmd_daemon },
	{ { "pf", "network", "add" }, "PF NETWORK", 2, 2, { { 0 } },
	  "allow a PF to serve a network", CTL_GROUP_POLICY, true, cmd_daemon },
	{ { "pf", "network", "del" }, "PF NETWORK", 2, 2, { { 0 } },
	  "no longer allow a PF to serve a network", CTL_GROUP_POLICY, true, cmd_daemon },
	{ { "pf", "label", "add" }, "PF LABEL", 2, 2, { { 0 } },
	  "label a PF (it serves the networks with that label)", CTL_GROUP_POLICY, true,
	  cmd_daemon },
	{ { "pf", "label", "del" }, "PF LABEL", 2, 2, { { 0 } }, "remove a PF's label",
	  CTL_GROUP_POLICY, true, cmd_daemon },

	/* ---- host ---- */
	{ { "pf", "set" }, "PF", 1, 1,
	  { NUMBER_NEEDED("numvfs", "N", MAX_NUMVFS, "the number of VFs (0, then N)") },
	  "change a PF's number of VFs", CTL_GROUP_HOST, true, cmd_daemon },
	{ { "pf", "select", "list" }, "", 0, 0, { { 0 } },
	  "the PF selectors: which PFs and VFs vfpool manages", CTL_GROUP_HOST, false,
	  cmd_pf_select_list },
	{ { "pf", "select", "add" }, "CRITERION...", 1, 6,
	  { FLAG("exclude", "leave what it matches unmanaged") },
	  "add a PF selector (id=V:D driver=G pf=G[#0-3,6] pci=G class=HEX vfs=0-3,6)",
	  CTL_GROUP_HOST, true, cmd_daemon },
	{ { "pf", "select", "del" }, "INDEX", 1, 1, { { 0 } }, "delete a PF selector",
	  CTL_GROUP_HOST, true, cmd_daemon },

	/* ---- leases ---- */
	{ { "alloc" }, "VM VNIC [NETWORK]", 2, 3,
	  { TEXT("profile", "NAME", "through this vNIC profile (NETWORK then optional)"),
	    TEXT("mac", "MAC", "the MAC to apply to the VF (52:54:00:aa:bb:01)"),
	    TEXT("pin", "PCI", "this VF and no other (0000:3b:02.1)"),
	    NUMBER("numa", "NODE", 1023, "prefer a VF on this NUMA node"),
	    CHOICE("driver", "vfio-pci",
		   "bind the VF to vfio-pci for the lease (back to its driver at release)"),
	    FLAG("numa-required", "a VF on --numa's node or none"),
	    CHOICE("format", "text|libvirt|qemu",
		   "the lease as text, libvirt XML or QEMU") },
	  "a VF for a vNIC (asking again returns the lease it holds)", CTL_GROUP_LEASES, false,
	  cmd_alloc },
	{ { "release" }, "VM VNIC [GENERATION]", 2, 3, { { 0 } },
	  "release a vNIC's lease (only that generation's, if given)", CTL_GROUP_LEASES, false,
	  cmd_release },
	{ { "lease", "release" }, "VM [VNIC]", 1, 2, { { 0 } },
	  "release a VM's leases, or one vNIC's, as its launcher would", CTL_GROUP_LEASES, true,
	  cmd_daemon },
	{ { "lease", "gc" }, "VM...", 1, VFPOOL_CTL_ARGS_MAX - 3, { { 0 } },
	  "release every lease of VMs that are gone", CTL_GROUP_LEASES, true, cmd_daemon },

	/* ---- other ---- */
	{ { "ping" }, "", 0, 0, { { 0 } }, "check that the daemon answers", CTL_GROUP_OTHER,
	  false, cmd_daemon },
	{ { "help" }, "[COMMAND]", 0, 3, { { 0 } }, "this list, or a command's help",
	  CTL_GROUP_OTHER, false, cmd_help },
	{ { NULL } },
};

/* "alloc VM VNIC NETWORK [--mac MAC] ... [--json]", wrapped before width columns onto
 * lines indented by indent (after a first line that starts at column start). */
static void print_synopsis(FILE *f, const struct ctl_cmd *cmd, bool with_common, size_t start,
			   size_t indent, size_t width)
{
	char piece[96];
	size_t col = start;
	bool first = true;

	for (int i = -1; i < CTL_OPTS_MAX + 1; i++) {
		const struct ctl_opt *o = i >= 0 && i < CTL_OPTS_MAX ? &cmd->opts[i] : NULL;
		size_t n;

		if (i < 0) {
			snprintf(piece, sizeof(piece), "%s%s%s%s%s%s%s", cmd->words[0],
				 cmd->words[1] ? " " : "", cmd->words[1] ? cmd->words[1] : "",
				 cmd->words[2] ? " " : "", cmd->words[2] ? cmd->words[2] : "",
				 cmd->args[0] ? " " : "", cmd->args);
		} else if (o && o->name) {
			snprintf(piece, sizeof(piece), "%s--%s%s%s%s", o->required ? "" : "[",
				 o->name, o->arg ? " " : "", o->arg ? o->arg : "",
				 o->required ? "" : "]");
		} else if (!o && with_common) {
			snprintf(piece, sizeof(piece), "[--json]");
		} else {
			continue;
		}
		n = strlen(piece);
		if (!first && col + 1 + n > width) {
			fprintf(f, "\n%*s", (int)indent, "");
			col = indent;
		} else if (!first) {
			fputc(' ', f);
			col++;
		}
		fputs(piece, f);
		col += n;
		first = false;
	}
}

void ctl_print_cmd_help(FILE *f, const struct ctl_cmd *cmd)
{
	fputs("Usage: vfpoolctl [--run-dir DIR] ", f);
	print_synopsis(f, cmd, true, 32, 8, 79);
	fprintf(f, "\n%s.\n", cmd->summary);
	if (cmd->admin)
		fputs("Needs root or the daemon's admin group (vfpoold --admin-group).\n", f);
	fputs("Options:\n", f);
	for (const struct ctl_opt *o = cmd->opts; o < cmd->opts + CTL_OPTS_MAX && o->name; o++) {
		char name[64];

		snprintf(name, sizeof(name), "--%s%s%s", o->name, o->arg ? " " : "",
			 o->arg ? o->arg : "");
		if (strlen(name) > 28)
			fprintf(f, "  %s\n  %-28s", name, "");
		else
			fprintf(f, "  %-28s", name);
		fprintf(f, " %s%s\n", o->help, o->required ? " (required)" : "");
	}
	fprintf(f, "  %-28s %s\n", "--json", "JSON output (its schema: vfpoolctl(8))");
	fprintf(f, "  %-28s %s\n", "-h, --help", "this help");
}

void ctl_print_help(FILE *f)
{
	fputs("Usage: vfpoolctl [--run-dir DIR] [--json] COMMAND [ARGUMENTS] [OPTIONS]\n"
	      "       vfpoolctl --help | --version | COMMAND --help\n"
	      "The operator's tool for vfpoold: views read the daemon's state segment, changes\n"
	      "are asked of the daemon over its socket.\n"
	      "\nGlobal options:\n"
	      "  --run-dir DIR     the daemon's run directory ($" VFPOOL_RUN_DIR_ENV ", else\n"
	      "                    " VFPOOL_DEFAULT_RUN_DIR ")\n"
	      "  --json            JSON output, one document (watch: one a frame)\n"
	      "  -h, --help        this help\n"
	      "  -V, --version     vfpoolctl's version\n", f);
	for (int g = 0; g < CTL_GROUP_NR; g++) {
		fprintf(f, "\n%s:\n", ctl_group_names[g]);
		for (const struct ctl_cmd *cmd = ctl_commands; cmd->words[0]; cmd++) {
			if ((int)cmd->group != g)
				continue;
			fputs("  ", f);
			print_synopsis(f, cmd, false, 2, 8, 79);
			fprintf(f, "\n      %s\n", cmd->summary);
		}
	}
	fputs("\nExit status: 0 success, 1 refused or failed (the message names the object and\n"
	      "why), 2 usage error; doctor: 0 pass, 1 could not check, 3 warnings, 4 a check\n"
	      "failed. See vfpoolctl(8) for each command's --json schema.\n", f);
}

struct json_object *ctl_help_json(void)
{
	struct json_object *root = json_object_new_object(), *list = json_object_new_array();

	for (const struct ctl_cmd *cmd = ctl_commands; cmd->words[0]; cmd++) {
		struct json_object *c = json_object_new_object(), *opts = json_object_new_array();
		char name[48] = "";

		for (int w = 0; w < 3 && cmd->words[w]; w++)
			snprintf(name + strlen(name), sizeof(name) - strlen(name), "%s%s",
				 w ? " " : "", cmd->words[w]);
		json_object_object_add(c, "command", json_object_new_string(name));
		json_object_object_add(c, "arguments", json_object_new_string(cmd->args));
		json_object_object_add(c, "group", json_object_new_string(group_keys[cmd->group]));
		json_object_object_add(c, "admin", json_object_new_boolean(cmd->admin));
		json_object_object_add(c, "daemon", json_object_new_boolean(cmd->run == cmd_daemon));
		json_object_object_add(c, "summary", json_object_new_string(cmd->summary));
		for (const struct ctl_opt *o = cmd->opts; o < cmd->opts + CTL_OPTS_MAX && o->name;
		     o++) {
			struct json_object *jo = json_object_new_object();
			char flag[40];

			snprintf(flag, sizeof(flag), "--%s", o->name);
			json_object_object_add(jo, "option", json_object_new_string(flag));
			json_object_object_add(jo, "value", o->arg ? json_object_new_string(o->arg)
							       : NULL);
			json_object_object_add(jo, "required", json_object_new_boolean(o->required));
			json_object_object_add(jo, "help", json_object_new_string(o->help));
			json_object_array_add(opts, jo);
		}
		json_object_object_add(c, "options", opts);
		json_object_array_add(list, c);
	}
	json_object_object_add(root, "commands", list);
	return root;
}
