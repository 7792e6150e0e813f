/* SPDX-License-Identifier: MIT */
/*
 * The PF selectors on disk: <state-dir>/pf-selectors, the text of pf_selectors_parse (one
 * selector a line), written atomically (temp file, fsync, rename, fsync of the directory)
 * like the policy. No file: no selector, the default applies (core/host/pf_selector.h).
 * A file that does not parse stops whoever reads it: selectors are never guessed, since a
 * wrong guess hands out or rewrites devices that are someone else's.
 */
#ifndef VFPOOL_CORE_HOST_PF_SELECTOR_STORE_H
#define VFPOOL_CORE_HOST_PF_SELECTOR_STORE_H

#include <stddef.h>

#include "core/host/pf_selector.h"

#define PF_SELECTOR_FILE "pf-selectors"

/* Loads into *ret (an empty list when there is no file). On error *ret is untouched and why
 * names the file and the reason (the line, for a parse error). */
int pf_selector_store_load(const char *state_dir, struct pf_selectors *ret, char *why,
			   size_t why_len);
int pf_selector_store_save(const char *state_dir, const struct pf_selectors *l, char *why,
			   size_t why_len);

#endif
