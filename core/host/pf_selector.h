/* SPDX-License-Identifier: MIT */
/*
 * PF selectors: which SR-IOV PFs, and which of their VFs, vfpool manages (as the Kubernetes
 * SR-IOV device plugin's selectors say which devices make up a resource). Pure: strings in,
 * verdicts out; the store (core/host/pf_selector_store.h) reads and writes the list.
 *
 * One selector, in the form the file and the commands use (words separated by blanks):
 *
 *   include|exclude [id=VENDOR:DEVICE] [driver=GLOB] [pf=GLOB[#RANGES]] [pci=GLOB]
 *                   [class=HEX] [vfs=RANGES]
 *
 * VENDOR and DEVICE are 4 hex digits or "*"; GLOBs are fnmatch(3) patterns (the PF's driver,
 * netdev name and PCI address); class=HEX is a prefix of the 24-bit PCI class code (02: any
 * network controller, 0200: Ethernet, 010802: NVMe); RANGES is "0-3,6": VF indexes
 * (virtfnN), "pf=ens1f0#0-3" being short for "pf=ens1f0 vfs=0-3". Every criterion given
 * must match; a selector has at least one. Without vfs a selector covers all VFs.
 *
 * The list as a whole: a PF is managed when an include selector matches it and no exclude
 * selector without VF ranges does; a VF of a managed PF is managed when an include
 * selector matching its PF covers its index and no exclude selector matching its PF does.
 * Without any include selector the default one applies: "include class=02", every SR-IOV
 * PF that is a network controller, all its VFs.
 */
#ifndef VFPOOL_CORE_HOST_PF_SELECTOR_H
#define VFPOOL_CORE_HOST_PF_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PF_SEL_MAX        64  /* selectors in a list */
#define PF_SEL_RANGES_MAX 16  /* VF index ranges in one selector */
#define PF_SEL_GLOB_MAX   64
#define PF_SEL_TEXT_MAX   512 /* one selector's canonical text, NUL included */
#define PF_SEL_DEFAULT    "include class=02"

enum pf_sel_action { PF_SEL_INCLUDE, PF_SEL_EXCLUDE };

struct pf_sel_range {
	uint32_t lo, hi; /* inclusive */
};

struct pf_selector {
	enum pf_sel_action action;
	int32_t vendor, device;     /* -1: any */
	char driver[PF_SEL_GLOB_MAX]; /* "": any */
	char pf_name[PF_SEL_GLOB_MAX];
	char pci[PF_SEL_GLOB_MAX];
	uint32_t class_value, class_mask; /* mask 0: any class */
	struct pf_sel_range vfs[PF_SEL_RANGES_MAX];
	unsigned n_vfs;             /* 0: every VF */
};

struct pf_selectors {
	struct pf_selector sel[PF_SEL_MAX];
	unsigned n;
};

/* What matching needs to know of a PF. */
struct pf_sel_device {
	const char *pci_addr;
	const char *netdev; /* "" when it has none: a pf= glob never matches it */
	const char *driver; /* "" when unbound */
	uint16_t vendor, device;
	uint32_t pci_class; /* the 24-bit class code; 0: unknown, matches no class= */
};

/* Parses one selector; -EINVAL with why ("pf=ens1f0#3-1: range 3-1 runs backwards"). */
int pf_selector_parse(const char *text, struct pf_selector *ret, char *why, size_t why_len);
/* The canonical text (criteria in the order above), what the file holds. */
void pf_selector_format(const struct pf_selector *s, char buf[PF_SEL_TEXT_MAX]);

bool pf_selector_matches_pf(const struct pf_selector *s, const struct pf_sel_device *d);
bool pf_selector_covers_vf(const struct pf_selector *s, uint32_t vf_index);

bool pf_selectors_manage_pf(const struct pf_selectors *l, const struct pf_sel_device *d);
bool pf_selectors_manage_vf(const struct pf_selectors *l, const struct pf_sel_device *d,
			    uint32_t vf_index);
/* Whether the list has an include selector (without one, PF_SEL_DEFAULT applies). */
bool pf_selectors_has_include(const struct pf_selectors *l);

/* The file's text: one selector a line, blank lines and "#" comments ignored. -EINVAL with
 * why naming the line; on failure *ret is untouched. */
int pf_selectors_parse(const char *text, struct pf_selectors *ret, char *why, size_t why_len);
/* The file's text (malloc'd, a header comment and one canonical selector a line). */
char *pf_selectors_render(const struct pf_selectors *l);

/* Adds s at the end: -ENOSPC when full, -EEXIST when the same selector is there. */
int pf_selectors_add(struct pf_selectors *l, const struct pf_selector *s);
/* Removes the selector at index: -ENOENT when there is none. */
int pf_selectors_del(struct pf_selectors *l, unsigned index);

#endif
