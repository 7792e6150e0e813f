/* SPDX-License-Identifier: MIT */
/*
 * The policy on disk: <state-dir>/policy, one object a line, written atomically (temp
 * file, fsync, rename, fsync of the directory). Parsing is strict: a line that is not
 * exactly one of the forms below, or an object that breaks a policy rule, makes the whole
 * file corrupt (-EBADMSG, why names the file and line) and nothing of it is used.
 *
 *   vfpool-policy 1
 *   network NAME VLAN MTU LABEL|-
 *   profile NAME NETWORK none|mandatory|preferred MIRRORING(0|1) QOS(0|1) [KEY=VALUE...]
 *     (placement=, numa=, trust=, spoofchk=, link-state=, max-tx-rate=, min-tx-rate=,
 *     driver=vfio-pci: only those not at their default)
 *   pf PCI all|list
 *   pf-network PCI NETWORK
 *   pf-label PCI LABEL
 *
 * A PF that is not on this host any more is skipped (its lines name a PCI address the
 * policy does not know); *ret_skipped counts those lines so the daemon can say so.
 */
#ifndef VFPOOL_CORE_POLICY_STORE_H
#define VFPOOL_CORE_POLICY_STORE_H

#include <stddef.h>

#include "core/model/policy.h"

#include <stdio.h>

#define POLICY_FILE "policy"

/* A profile's settings past the first five, as " key=value" words, only those not at their
 * default (the file's form; `profile list` shows them the same way). */
void policy_profile_render_extras(FILE *f, const struct policy_profile *pr);

int policy_store_save(const char *state_dir, const struct policy *p, char *why, size_t why_len);

/* Loads into p (initialised with the host's PFs, otherwise empty). -ENOENT: no file (a
 * fresh host). On any error p is unchanged. */
int policy_store_load(const char *state_dir, struct policy *p, unsigned *ret_skipped, char *why,
		      size_t why_len);

#endif
