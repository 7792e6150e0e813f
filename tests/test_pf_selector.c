/* SPDX-License-Identifier: MIT */
/* PF selectors (core/host/pf_selector.h, core/host/host_select.h): parsing, the canonical
 * text, matching a PF and its VFs, the list's include/exclude/default rules, and the
 * filter over a discovered host. Tables of cases, one behaviour each. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "core/host/host_select.h"
#include "core/host/pf_selector.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- parsing and the canonical text ---------------------------------------------------- */

static const struct {
	const char *in, *canonical;
} valid[] = {
	{ "include id=1b36:0010", "include id=1b36:0010" },
	{ "include id=8086:*", "include id=8086:*" },
	{ "include   id=15B3:101D\tdriver=mlx5_*", "include id=15b3:101d driver=mlx5_*" },
	{ "exclude pf=ens1f0#0-3,6", "exclude pf=ens1f0 vfs=0-3,6" },
	{ "include pf=ens* vfs=7", "include pf=ens* vfs=7" },
	{ "include pci=0000:3b:00.*", "include pci=0000:3b:00.*" },
	{ "include class=02", "include class=02" },
	{ "include class=0x0200", "include class=0200" },
	{ "include class=010802", "include class=010802" },
	{ "include vfs=0-65535", "include vfs=0-65535" },
	{ "include pci=0000:3b:00.1 class=02 driver=i40e id=8086:1572 pf=ens1f1#1",
	  "include id=8086:1572 driver=i40e pf=ens1f1 pci=0000:3b:00.1 class=02 vfs=1" },
};

Test(pf_selector, valid_selectors_parse_to_their_canonical_text)
{
	for (size_t i = 0; i < ARRAY_SIZE(valid); i++) {
		struct pf_selector s, again;
		char why[256] = "", text[PF_SEL_TEXT_MAX];

		cr_assert_eq(pf_selector_parse(valid[i].in, &s, why, sizeof(why)), 0, "%s: %s",
			     valid[i].in, why);
		pf_selector_format(&s, text);
		cr_expect_str_eq(text, valid[i].canonical, "%s", valid[i].in);
		/* the canonical text is what the file keeps: it parses to the same selector */
		cr_assert_eq(pf_selector_parse(text, &again, why, sizeof(why)), 0, "%s", why);
		cr_expect_eq(memcmp(&s, &again, sizeof(s)), 0, "%s: round trip", text);
	}
}

static const struct {
	const char *in, *why; /* why: a part of the reason */
} invalid[] = {
	{ "", "starts with include or exclude" },
	{ "allow id=8086:1572", "starts with include or exclude" },
	{ "include", "without a criterion" },
	{ "include id=8086", "VENDOR:DEVICE" },
	{ "include id=80861:1572", "VENDOR:DEVICE" },
	{ "include id=zzzz:1572", "VENDOR:DEVICE" },
	{ "include id=8086:1572 id=8086:1573", "given twice" },
	{ "include class=2", "2, 4 or 6 hex digits" },
	{ "include class=02000000", "2, 4 or 6 hex digits" },
	{ "include vfs=3-1", "runs backwards" },
	{ "include vfs=1,", "ends with a comma" },
	{ "include vfs=a", "like 0-3,6" },
	{ "include vfs=65536", "like 0-3,6" },
	{ "include pf=ens1f0#", "empty VF ranges" },
	{ "include pf=ens1f0#1 vfs=2", "given twice" },
	{ "include pf=", "1 to 63 characters" },
	{ "include pf=a pf=b", "given twice" },
	{ "include name=ens1f0", "unknown key" },
	{ "include ens1f0", "KEY=VALUE" },
	{ "include driver=\x01", "control character" },
};

Test(pf_selector, malformed_selectors_are_refused_with_the_reason)
{
	for (size_t i = 0; i < ARRAY_SIZE(invalid); i++) {
		struct pf_selector s;
		char why[256] = "";

		cr_expect_eq(pf_selector_parse(invalid[i].in, &s, why, sizeof(why)), -EINVAL, "%s",
			     invalid[i].in);
		cr_expect(strstr(why, invalid[i].why), "'%s': reason '%s', expected '%s'",
			  invalid[i].in, why, invalid[i].why);
	}
}

/* ---- matching one PF ------------------------------------------------------------------- */

static const struct pf_sel_device intel = {
	.pci_addr = "0000:3b:00.0", .netdev = "ens1f0", .driver = "i40e",
	.vendor = 0x8086, .device = 0x1572, .pci_class = 0x020000,
};
static const struct pf_sel_device nvme = {
	.pci_addr = "0000:01:00.0", .netdev = "", .driver = "nvme",
	.vendor = 0x1b36, .device = 0x0010, .pci_class = 0x010802,
};
static const struct pf_sel_device unknown_class = {
	.pci_addr = "0000:5e:00.0", .netdev = "ens2f0", .driver = "mlx5_core",
	.vendor = 0x15b3, .device = 0x101d, .pci_class = 0,
};

static const struct {
	const char *sel;
	const struct pf_sel_device *dev;
	bool match;
} pf_cases[] = {
	{ "include id=8086:1572", &intel, true },
	{ "include id=8086:*", &intel, true },
	{ "include id=*:1572", &intel, true },
	{ "include id=8086:1573", &intel, false },
	{ "include id=1b36:0010", &nvme, true },
	{ "include driver=i40e", &intel, true },
	{ "include driver=i4*", &intel, true },
	{ "include driver=ice", &intel, false },
	{ "include pf=ens1f*", &intel, true },
	{ "include pf=ens2*", &intel, false },
	{ "include pf=*", &nvme, false }, /* no netdev: no name to match */
	{ "include pci=0000:3b:00.?", &intel, true },
	{ "include pci=0000:3c:*", &intel, false },
	{ "include class=02", &intel, true },
	{ "include class=0200", &intel, true },
	{ "include class=020000", &intel, true },
	{ "include class=0280", &intel, false },
	{ "include class=02", &nvme, false },
	{ "include class=0108", &nvme, true },
	{ "include class=02", &unknown_class, false },
	{ "include id=8086:1572 driver=ice", &intel, false }, /* every criterion must match */
	{ "include id=8086:1572 driver=i40e pf=ens1f0 pci=0000:3b:00.0 class=02", &intel, true },
	{ "include vfs=0-3", &intel, true }, /* ranges say nothing about the PF */
};

Test(pf_selector, a_pf_matches_when_every_criterion_given_matches)
{
	for (size_t i = 0; i < ARRAY_SIZE(pf_cases); i++) {
		struct pf_selector s;
		char why[256];

		cr_assert_eq(pf_selector_parse(pf_cases[i].sel, &s, why, sizeof(why)), 0, "%s", why);
		cr_expect_eq(pf_selector_matches_pf(&s, pf_cases[i].dev), pf_cases[i].match,
			     "%s on %s", pf_cases[i].sel, pf_cases[i].dev->pci_addr);
	}
}

Test(pf_selector, vf_ranges_cover_exactly_their_indexes)
{
	static const struct {
		const char *sel;
		uint32_t vf;
		bool covered;
	} cases[] = {
		{ "include pf=ens1f0", 200, true },
		{ "include pf=ens1f0#0-3,6", 0, true },
		{ "include pf=ens1f0#0-3,6", 3, true },
		{ "include pf=ens1f0#0-3,6", 4, false },
		{ "include pf=ens1f0#0-3,6", 5, false },
		{ "include pf=ens1f0#0-3,6", 6, true },
		{ "include pf=ens1f0#0-3,6", 7, false },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct pf_selector s;
		char why[256];

		cr_assert_eq(pf_selector_parse(cases[i].sel, &s, why, sizeof(why)), 0, "%s", why);
		cr_expect_eq(pf_selector_covers_vf(&s, cases[i].vf), cases[i].covered, "%s VF %u",
			     cases[i].sel, cases[i].vf);
	}
}

/* ---- the list -------------------------------------------------------------------------- */

static void list_of(struct pf_selectors *l, const char *text)
{
	char why[256] = "";

	memset(l, 0, sizeof(*l));
	cr_assert_eq(pf_selectors_parse(text, l, why, sizeof(why)), 0, "%s: %s", text, why);
}

static const struct {
	const char *list;
	const struct pf_sel_device *dev;
	int64_t vf; /* -1: the PF */
	bool managed;
} list_cases[] = {
	/* no include selector: the default, network controllers, all VFs */
	{ "", &intel, -1, true },
	{ "", &intel, 7, true },
	{ "", &nvme, -1, false },
	{ "", &unknown_class, -1, false },
	{ "# only a comment\n\n", &intel, -1, true },
	/* an include replaces the default */
	{ "include id=1b36:0010", &nvme, -1, true },
	{ "include id=1b36:0010", &nvme, 3, true },
	{ "include id=1b36:0010", &intel, -1, false },
	/* exclusions apply to the default too */
	{ "exclude pf=ens1f0", &intel, -1, false },
	{ "exclude pf=ens1f0", &intel, 0, false },
	{ "exclude pf=ens1f0#6", &intel, -1, true },
	{ "exclude pf=ens1f0#6", &intel, 6, false },
	{ "exclude pf=ens1f0#6", &intel, 5, true },
	/* VF ranges of includes add up; an exclusion wins */
	{ "include pf=ens1f0#0-3\ninclude pf=ens1f0#6", &intel, 6, true },
	{ "include pf=ens1f0#0-3\ninclude pf=ens1f0#6", &intel, 5, false },
	{ "include pf=ens1f0#0-3\nexclude id=8086:* vfs=2", &intel, 2, false },
	{ "include pf=ens1f0#0-3\nexclude vfs=2", &intel, 3, true },
	/* an include with ranges still manages its PF */
	{ "include pf=ens1f0#9", &intel, -1, true },
	{ "include pf=ens1f0#9", &intel, 0, false },
};

Test(pf_selector, the_list_manages_by_include_exclude_and_default_rules)
{
	for (size_t i = 0; i < ARRAY_SIZE(list_cases); i++) {
		struct pf_selectors *l = malloc(sizeof(*l));
		bool got;

		cr_assert(l);
		list_of(l, list_cases[i].list);
		got = list_cases[i].vf < 0 ? pf_selectors_manage_pf(l, list_cases[i].dev)
					   : pf_selectors_manage_vf(l, list_cases[i].dev,
								    (uint32_t)list_cases[i].vf);
		cr_expect_eq(got, list_cases[i].managed, "list '%s', %s VF %lld", list_cases[i].list,
			     list_cases[i].dev->pci_addr, (long long)list_cases[i].vf);
		free(l);
	}
}

Test(pf_selector, a_bad_line_names_its_number_and_leaves_the_list_untouched)
{
	struct pf_selectors *l = malloc(sizeof(*l));
	char why[256] = "";

	cr_assert(l);
	list_of(l, "include id=8086:1572\n");
	cr_assert_eq(pf_selectors_parse("include id=8086:1573\n# c\ninclude vfs=4-1\n", l, why,
					sizeof(why)), -EINVAL);
	cr_expect(strstr(why, "line 3: ") && strstr(why, "runs backwards"), "%s", why);
	cr_expect_eq(l->n, 1u);
	cr_expect_eq(pf_selectors_parse("include id=8086:1572\ninclude id=8086:1572\n", l, why,
					sizeof(why)), -EINVAL);
	cr_expect(strstr(why, "line 2: the same selector again"), "%s", why);
	free(l);
}

Test(pf_selector, render_then_parse_gives_the_same_list_and_add_del_keep_order)
{
	struct pf_selectors *l = malloc(sizeof(*l)), *again = malloc(sizeof(*again));
	struct pf_selector s;
	char why[256], *text;

	cr_assert(l && again);
	list_of(l, "include id=1b36:0010\nexclude pf=ens1f0#6\ninclude class=0200\n");
	text = pf_selectors_render(l);
	cr_assert(text);
	list_of(again, text);
	cr_expect_eq(again->n, 3u);
	cr_expect_eq(memcmp(l->sel, again->sel, 3 * sizeof(l->sel[0])), 0);
	free(text);
	cr_assert_eq(pf_selector_parse("exclude pf=ens1f0 vfs=6", &s, why, sizeof(why)), 0);
	cr_expect_eq(pf_selectors_add(l, &s), -EEXIST, "the same selector, written differently");
	cr_expect_eq(pf_selectors_del(l, 3), -ENOENT);
	cr_assert_eq(pf_selectors_del(l, 0), 0);
	cr_expect_eq(l->n, 2u);
	cr_expect_eq(l->sel[0].action, PF_SEL_EXCLUDE);
	free(l);
	free(again);
}

Test(pf_selector, a_full_list_refuses_one_more)
{
	struct pf_selectors *l = calloc(1, sizeof(*l));
	struct pf_selector s;
	char why[256], text[64];

	cr_assert(l);
	for (unsigned i = 0; i < PF_SEL_MAX; i++) {
		snprintf(text, sizeof(text), "include vfs=%u", i);
		cr_assert_eq(pf_selector_parse(text, &s, why, sizeof(why)), 0);
		cr_assert_eq(pf_selectors_add(l, &s), 0);
	}
	cr_assert_eq(pf_selector_parse("include vfs=999", &s, why, sizeof(why)), 0);
	cr_expect_eq(pf_selectors_add(l, &s), -ENOSPC);
	free(l);
}

/* ---- the filter over a host ------------------------------------------------------------ */

Test(pf_selector, host_select_keeps_managed_pfs_and_vfs_and_renumbers_their_pfs)
{
	struct pf_selectors *l = malloc(sizeof(*l));
	struct host *h;
	unsigned dropped = 9;

	cr_assert(l);
	cr_assert_eq(host_simulate(3, 4, &h), 0); /* ens1f0 ens1f1 ens2f0, class 02 */
	snprintf(h->pfs[1].driver, sizeof(h->pfs[1].driver), "nvme");
	h->pfs[1].pci_class = 0x010802;
	/* the default leaves the NVMe PF out; the exclusion takes VF 2 of the third PF */
	list_of(l, "exclude pf=ens2f0#2\n");
	cr_assert_eq(host_select(h, l, &dropped), 0);
	cr_expect_eq(dropped, 1u);
	cr_assert_eq(h->n_pfs, 2u);
	cr_expect_str_eq(h->pfs[1].netdev, "ens2f0");
	cr_assert_eq(h->n_vfs, 7u);
	for (size_t i = 0; i < h->n_vfs; i++) {
		cr_expect_lt(h->vfs[i].pf, 2u);
		cr_expect(!(h->vfs[i].pf == 1 && h->vfs[i].vf_index == 2), "excluded VF kept");
	}
	cr_expect_eq(h->vfs[4].pf, 1u, "the third PF's VFs follow it to index 1");
	host_free(h);
	free(l);
}
