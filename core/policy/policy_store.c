/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/atomic_file.h"
#include "core/base/parse_uint.h"
#include "core/base/reason.h"
#include "core/policy/policy_store.h"

#define MAX_LINE 256

/* a file without them (an older daemon's) loads as before */
void policy_profile_render_extras(FILE *f, const struct policy_profile *pr)
{
	if (pr->placement != POLICY_PLACE_DAEMON)
		fprintf(f, " placement=%s", policy_placement_name(pr->placement));
	if (pr->numa != POLICY_NUMA_PREFERRED)
		fprintf(f, " numa=%s", policy_numa_name(pr->numa));
	if (pr->trust != POLICY_SWITCH_DEFAULT)
		fprintf(f, " trust=%s", policy_switch_name(pr->trust));
	if (pr->spoofchk != POLICY_SWITCH_DEFAULT)
		fprintf(f, " spoofchk=%s", policy_switch_name(pr->spoofchk));
	if (pr->link_state != POLICY_LINK_AUTO)
		fprintf(f, " link-state=%s", policy_link_state_name(pr->link_state));
	if (pr->max_tx_rate)
		fprintf(f, " max-tx-rate=%u", pr->max_tx_rate);
	if (pr->min_tx_rate)
		fprintf(f, " min-tx-rate=%u", pr->min_tx_rate);
	if (pr->vfio)
		fprintf(f, " driver=vfio-pci");
}

static char *render(const struct policy *p, size_t *ret_len)
{
	char *out = NULL;
	FILE *f = open_memstream(&out, ret_len);

	if (!f)
		return NULL;
	fprintf(f, "vfpool-policy 1\n");
	for (uint32_t i = 0; i < p->n_nets; i++)
		fprintf(f, "network %s %u %u %s\n", p->nets[i].name, p->nets[i].vlan, p->nets[i].mtu,
			p->nets[i].label[0] ? p->nets[i].label : "-");
	for (uint32_t i = 0; i < p->n_profiles; i++) {
		fprintf(f, "profile %s %s %s %d %d", p->profiles[i].name, p->profiles[i].network,
			policy_passthrough_name(p->profiles[i].passthrough),
			p->profiles[i].port_mirroring, p->profiles[i].qos);
		policy_profile_render_extras(f, &p->profiles[i]);
		fputc('\n', f);
	}
	for (uint32_t i = 0; i < p->n_pfs; i++) {
		const struct policy_pf *pf = &p->pfs[i];

		fprintf(f, "pf %s %s\n", pf->pci_addr, pf->all_networks ? "all" : "list");
		for (uint32_t k = 0; k < pf->n_nets; k++)
			fprintf(f, "pf-network %s %s\n", pf->pci_addr, pf->nets[k]);
		for (uint32_t k = 0; k < pf->n_labels; k++)
			fprintf(f, "pf-label %s %s\n", pf->pci_addr, pf->labels[k]);
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

int policy_store_save(const char *state_dir, const struct policy *p, char *why, size_t why_len)
{
	size_t len = 0;
	char *text = render(p, &len);
	int dfd = -1, r = 0;

	if (!text)
		return reason_err(-ENOMEM, why, why_len, "%s/%s: out of memory", state_dir,
				  POLICY_FILE);
	/* the daemon verified (and made) it at start (core/safe_dir.h): never through a link */
	dfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		r = reason_err(-errno, why, why_len, "%s: %s", state_dir, strerror(errno));
		goto out;
	}
	r = atomic_file_replace(dfd, POLICY_FILE, text, len, 0644);
	if (r)
		reason_err(r, why, why_len, "%s/%s: %s", state_dir, POLICY_FILE, strerror(-r));
out:
	if (dfd >= 0)
		close(dfd);
	free(text);
	return r;
}

static int parse_bool(const char *s, bool *ret)
{
	if (strcmp(s, "0") == 0 || strcmp(s, "1") == 0) {
		*ret = s[0] == '1';
		return 0;
	}
	return -EINVAL;
}

/* Splits a line into at most max words at single spaces; -EINVAL on empty words. */
static int split(char *line, char **words, int max)
{
	int n = 0;

	for (char *s = line;; ) {
		char *sp = strchr(s, ' ');

		if (n == max || !*s)
			return -EINVAL;
		words[n++] = s;
		if (!sp)
			return n;
		*sp = '\0';
		s = sp + 1;
	}
}

static int copy_name(char *dst, size_t size, const char *src)
{
	if (strlen(src) >= size)
		return -EINVAL;
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

/* One key=value word past a profile's first five; -EINVAL for anything else. */
static int profile_extra(struct policy_profile *pr, const char *word)
{
	const char *v = strchr(word, '=');
	size_t k = v ? (size_t)(v - word) : 0;

	if (!v)
		return -EINVAL;
	v++;
	if (k == 9 && strncmp(word, "placement", k) == 0)
		return policy_parse_placement(v, &pr->placement);
	if (k == 4 && strncmp(word, "numa", k) == 0)
		return policy_parse_numa(v, &pr->numa);
	if (k == 5 && strncmp(word, "trust", k) == 0)
		return policy_parse_switch(v, &pr->trust);
	if (k == 8 && strncmp(word, "spoofchk", k) == 0)
		return policy_parse_switch(v, &pr->spoofchk);
	if (k == 10 && strncmp(word, "link-state", k) == 0)
		return policy_parse_link_state(v, &pr->link_state);
	if (k == 11 && strncmp(word, "max-tx-rate", k) == 0)
		return parse_uint(v, POLICY_MAX_TX_RATE, &pr->max_tx_rate);
	if (k == 11 && strncmp(word, "min-tx-rate", k) == 0)
		return parse_uint(v, POLICY_MAX_TX_RATE, &pr->min_tx_rate);
	if (k == 6 && strncmp(word, "driver", k) == 0) {
		if (strcmp(v, "vfio-pci") != 0)
			return -EINVAL;
		pr->vfio = true;
		return 0;
	}
	return -EINVAL;
}

#define MAX_WORDS 16

/* One line into p; returns 0, 1 (skipped: unknown PF) or -EINVAL with why. */
static int apply_line(struct policy *p, char *line, char *why, size_t len)
{
	char *w[MAX_WORDS];
	int n = split(line, w, MAX_WORDS), pf;

	if (n < 0)
		return reason_err(-EINVAL, why, len, "not words separated by single spaces");
	if (strcmp(w[0], "network") == 0 && n == 5) {
		struct policy_network net = { 0 };
		uint32_t vlan;

		if (copy_name(net.name, sizeof(net.name), w[1]) ||
		    parse_uint(w[2], POLICY_MAX_VLAN, &vlan) ||
		    parse_uint(w[3], POLICY_MAX_MTU, &net.mtu) ||
		    (strcmp(w[4], "-") != 0 && copy_name(net.label, sizeof(net.label), w[4])))
			return reason_err(-EINVAL, why, len, "network: bad field");
		net.vlan = (uint16_t)vlan;
		return policy_network_add(p, &net, why, len);
	}
	if (strcmp(w[0], "profile") == 0 && n >= 6) {
		struct policy_profile pr = { 0 };

		if (copy_name(pr.name, sizeof(pr.name), w[1]) ||
		    copy_name(pr.network, sizeof(pr.network), w[2]) ||
		    policy_parse_passthrough(w[3], &pr.passthrough) ||
		    parse_bool(w[4], &pr.port_mirroring) || parse_bool(w[5], &pr.qos))
			return reason_err(-EINVAL, why, len, "profile: bad field");
		for (int k = 6; k < n; k++)
			if (profile_extra(&pr, w[k]))
				return reason_err(-EINVAL, why, len, "profile: bad setting %.40s",
						  w[k]);
		return policy_profile_add(p, &pr, why, len);
	}
	if ((strcmp(w[0], "pf") == 0 || strcmp(w[0], "pf-network") == 0 ||
	     strcmp(w[0], "pf-label") == 0) && n == 3) {
		pf = policy_find_pf(p, w[1]);
		if (pf < 0)
			return 1;
		if (strcmp(w[0], "pf") == 0) {
			if (strcmp(w[2], "all") != 0 && strcmp(w[2], "list") != 0)
				return reason_err(-EINVAL, why, len, "pf: expected all or list");
			return policy_pf_all_networks(p, (uint32_t)pf, w[2][0] == 'a');
		}
		if (strcmp(w[0], "pf-network") == 0)
			return policy_pf_network(p, (uint32_t)pf, w[2], true, why, len);
		return policy_pf_label(p, (uint32_t)pf, w[2], true, why, len);
	}
	return reason_err(-EINVAL, why, len, "unknown line");
}

static int parse(FILE *f, struct policy *p, unsigned *skipped, char *why, size_t len)
{
	char line[MAX_LINE + 2];
	unsigned lineno = 0;

	while (fgets(line, sizeof(line), f)) {
		size_t l = strlen(line);
		char reason[160] = "";
		int r;

		lineno++;
		if (l == 0 || line[l - 1] != '\n')
			return reason_err(-EBADMSG, why, len, "line %u: too long or not terminated",
					  lineno);
		line[l - 1] = '\0';
		if (lineno == 1) {
			if (strcmp(line, "vfpool-policy 1") != 0)
				return reason_err(-EBADMSG, why, len,
						  "line 1: not \"vfpool-policy 1\"");
			continue;
		}
		r = apply_line(p, line, reason, sizeof(reason));
		if (r < 0)
			return reason_err(-EBADMSG, why, len, "line %u: %s", lineno, reason);
		*skipped += (unsigned)r;
	}
	if (ferror(f))
		return reason_err(-EIO, why, len, "read error");
	if (lineno == 0)
		return reason_err(-EBADMSG, why, len, "empty");
	return 0;
}

int policy_store_load(const char *state_dir, struct policy *p, unsigned *ret_skipped, char *why,
		      size_t why_len)
{
	struct policy tmp;
	char path[4096], reason[200] = "";
	unsigned skipped = 0;
	FILE *f;
	int r;

	if (snprintf(path, sizeof(path), "%s/%s", state_dir, POLICY_FILE) >= (int)sizeof(path))
		return reason_err(-ENAMETOOLONG, why, why_len, "%s: path too long", state_dir);
	/* root reads it: never through a link, never a FIFO that would hang the start */
	{
		struct stat st;
		int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

		if (fd < 0) {
			r = -errno;
			return reason_err(r, why, why_len, "%s: %s", path,
					  r == -ELOOP ? "a symlink, not followed" : strerror(-r));
		}
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			return reason_err(-EINVAL, why, why_len, "%s: not a regular file", path);
		}
		f = fdopen(fd, "r");
		if (!f) {
			r = -errno;
			close(fd);
			return reason_err(r, why, why_len, "%s: %s", path, strerror(-r));
		}
	}
	/* parse into a copy: a corrupt file must leave nothing behind */
	r = policy_init(&tmp, p->n_pfs, NULL, NULL);
	if (r) {
		fclose(f);
		return reason_err(r, why, why_len, "%s: %s", path, strerror(-r));
	}
	for (uint32_t i = 0; i < p->n_pfs; i++) {
		memcpy(tmp.pfs[i].pci_addr, p->pfs[i].pci_addr, sizeof(tmp.pfs[i].pci_addr));
		memcpy(tmp.pfs[i].netdev, p->pfs[i].netdev, sizeof(tmp.pfs[i].netdev));
	}
	r = parse(f, &tmp, &skipped, reason, sizeof(reason));
	fclose(f);
	if (r) {
		policy_fini(&tmp);
		return reason_err(r, why, why_len, "%s: %s", path, reason);
	}
	tmp.generation = p->generation + 1;
	policy_fini(p);
	*p = tmp;
	if (ret_skipped)
		*ret_skipped = skipped;
	return 0;
}
