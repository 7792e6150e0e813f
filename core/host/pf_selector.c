/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/parse_uint.h"
#include "core/base/reason.h"
#include "core/host/pf_selector.h"

#define VF_INDEX_MAX 65535u /* sriov_totalvfs is a u16 */

static int parse_hex(const char *s, size_t n, uint32_t *ret)
{
	uint32_t v = 0;

	if (n == 0 || n > 8)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return -EINVAL;
		v = v * 16 + (uint32_t)(isdigit((unsigned char)s[i]) ? s[i] - '0'
								    : (tolower((unsigned char)s[i]) - 'a' + 10));
	}
	*ret = v;
	return 0;
}

/* "8086", "*" */
static int parse_id_part(const char *s, size_t n, int32_t *ret)
{
	uint32_t v;

	if (n == 1 && s[0] == '*') {
		*ret = -1;
		return 0;
	}
	if (n != 4 || parse_hex(s, n, &v) < 0)
		return -EINVAL;
	*ret = (int32_t)v;
	return 0;
}

static int parse_id(const char *v, struct pf_selector *s, char *why, size_t len)
{
	const char *colon = strchr(v, ':');

	if (!colon || parse_id_part(v, (size_t)(colon - v), &s->vendor) < 0 ||
	    parse_id_part(colon + 1, strlen(colon + 1), &s->device) < 0)
		return reason_err(-EINVAL, why, len, "id=%s: expected VENDOR:DEVICE, each 4 hex "
				  "digits or *", v);
	return 0;
}

/* 2, 4 or 6 hex digits: the class, class and subclass, or the whole code. */
static int parse_class(const char *v, struct pf_selector *s, char *why, size_t len)
{
	size_t n = strlen(v);
	uint32_t x;

	if (n >= 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
		v += 2;
		n -= 2;
	}
	if ((n != 2 && n != 4 && n != 6) || parse_hex(v, n, &x) < 0)
		return reason_err(-EINVAL, why, len, "class=%s: expected 2, 4 or 6 hex digits "
				  "(02: network controller)", v);
	s->class_value = x << (8 * (3 - n / 2));
	s->class_mask = 0xffffffu & ~((1u << (8 * (3 - n / 2))) - 1u);
	return 0;
}

/* "0-3,6" */
static int parse_ranges(const char *v, struct pf_selector *s, char *why, size_t len)
{
	const char *p = v;

	if (s->n_vfs)
		return reason_err(-EINVAL, why, len, "VF ranges given twice");
	while (*p) {
		unsigned lo, hi;
		const char *end;

		if (s->n_vfs == PF_SEL_RANGES_MAX)
			return reason_err(-EINVAL, why, len, "vfs=%s: more than %u VF ranges", v,
					  PF_SEL_RANGES_MAX);
		if (parse_uint_prefix(p, VF_INDEX_MAX, &lo, &end) < 0)
			return reason_err(-EINVAL, why, len, "vfs=%s: expected VF indexes like 0-3,6", v);
		hi = lo;
		if (*end == '-' && parse_uint_prefix(end + 1, VF_INDEX_MAX, &hi, &end) < 0)
			return reason_err(-EINVAL, why, len, "vfs=%s: expected VF indexes like 0-3,6", v);
		if (hi < lo)
			return reason_err(-EINVAL, why, len, "vfs=%s: range %u-%u runs backwards", v, lo,
					  hi);
		if (*end != ',' && *end != '\0')
			return reason_err(-EINVAL, why, len, "vfs=%s: expected VF indexes like 0-3,6", v);
		s->vfs[s->n_vfs++] = (struct pf_sel_range){ lo, hi };
		p = *end == ',' ? end + 1 : end;
		if (*end == ',' && !*p)
			return reason_err(-EINVAL, why, len, "vfs=%s: ends with a comma", v);
	}
	if (!s->n_vfs)
		return reason_err(-EINVAL, why, len, "empty VF ranges");
	return 0;
}

static int copy_glob(char dst[PF_SEL_GLOB_MAX], const char *key, const char *v, char *why,
		     size_t len)
{
	size_t n = strlen(v);

	if (dst[0])
		return reason_err(-EINVAL, why, len, "%s= given twice", key);
	if (n == 0 || n >= PF_SEL_GLOB_MAX)
		return reason_err(-EINVAL, why, len, "%s=: 1 to %d characters", key,
				  PF_SEL_GLOB_MAX - 1);
	for (size_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)v[i]) || v[i] == '#')
			return reason_err(-EINVAL, why, len, "%s=%s: a blank, '#' or control "
					  "character", key, v);
	memcpy(dst, v, n + 1);
	return 0;
}

static int parse_word(const char *w, struct pf_selector *s, bool *criteria, char *why,
		      size_t len)
{
	const char *eq = strchr(w, '=');
	char key[16];
	const char *v;

	if (!eq || eq == w || (size_t)(eq - w) >= sizeof(key))
		return reason_err(-EINVAL, why, len, "%s: expected KEY=VALUE (id, driver, pf, pci, "
				  "class, vfs)", w);
	memcpy(key, w, (size_t)(eq - w));
	key[eq - w] = '\0';
	v = eq + 1;
	*criteria = true;
	if (strcmp(key, "id") == 0) {
		if (s->vendor != -1 || s->device != -1)
			return reason_err(-EINVAL, why, len, "id= given twice");
		return parse_id(v, s, why, len);
	}
	if (strcmp(key, "driver") == 0)
		return copy_glob(s->driver, key, v, why, len);
	if (strcmp(key, "pci") == 0)
		return copy_glob(s->pci, key, v, why, len);
	if (strcmp(key, "class") == 0) {
		if (s->class_mask)
			return reason_err(-EINVAL, why, len, "class= given twice");
		return parse_class(v, s, why, len);
	}
	if (strcmp(key, "vfs") == 0)
		return parse_ranges(v, s, why, len);
	if (strcmp(key, "pf") == 0) {
		const char *hash = strchr(v, '#');
		char name[PF_SEL_GLOB_MAX];
		int r;

		if (!hash)
			return copy_glob(s->pf_name, key, v, why, len);
		if ((size_t)(hash - v) >= sizeof(name))
			return reason_err(-EINVAL, why, len, "pf=: 1 to %d characters",
					  PF_SEL_GLOB_MAX - 1);
		memcpy(name, v, (size_t)(hash - v));
		name[hash - v] = '\0';
		r = copy_glob(s->pf_name, key, name, why, len);
		return r ? r : parse_ranges(hash + 1, s, why, len);
	}
	return reason_err(-EINVAL, why, len, "%s: unknown key (id, driver, pf, pci, class, vfs)",
			  key);
}

int pf_selector_parse(const char *text, struct pf_selector *ret, char *why, size_t why_len)
{
	struct pf_selector s = { .vendor = -1, .device = -1 };
	char buf[PF_SEL_TEXT_MAX], *save = NULL, *w;
	bool criteria = false;
	int r;

	if (!text || strlen(text) >= sizeof(buf))
		return reason_err(-EINVAL, why, why_len, "selector longer than %d characters",
				  PF_SEL_TEXT_MAX - 1);
	memcpy(buf, text, strlen(text) + 1);
	w = strtok_r(buf, " \t", &save);
	if (!w || (strcmp(w, "include") != 0 && strcmp(w, "exclude") != 0))
		return reason_err(-EINVAL, why, why_len, "%s: a selector starts with include or "
				  "exclude", w ? w : "(empty)");
	s.action = w[0] == 'i' ? PF_SEL_INCLUDE : PF_SEL_EXCLUDE;
	while ((w = strtok_r(NULL, " \t", &save))) {
		r = parse_word(w, &s, &criteria, why, why_len);
		if (r)
			return r;
	}
	if (!criteria)
		return reason_err(-EINVAL, why, why_len, "%s without a criterion (id, driver, pf, "
				  "pci, class, vfs)", s.action == PF_SEL_INCLUDE ? "include"
										 : "exclude");
	*ret = s;
	return 0;
}

static size_t append(char *buf, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static size_t append(char *buf, size_t off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (off >= PF_SEL_TEXT_MAX)
		return off;
	va_start(ap, fmt);
	n = vsnprintf(buf + off, PF_SEL_TEXT_MAX - off, fmt, ap);
	va_end(ap);
	return n < 0 ? off : off + (size_t)n;
}

static size_t append_id(char *buf, size_t off, int32_t v)
{
	return v < 0 ? append(buf, off, "*") : append(buf, off, "%04x", (unsigned)v);
}

void pf_selector_format(const struct pf_selector *s, char buf[PF_SEL_TEXT_MAX])
{
	size_t off = append(buf, 0, "%s", s->action == PF_SEL_INCLUDE ? "include" : "exclude");

	if (s->vendor >= 0 || s->device >= 0) {
		off = append(buf, off, " id=");
		off = append_id(buf, off, s->vendor);
		off = append(buf, off, ":");
		off = append_id(buf, off, s->device);
	}
	if (s->driver[0])
		off = append(buf, off, " driver=%s", s->driver);
	if (s->pf_name[0])
		off = append(buf, off, " pf=%s", s->pf_name);
	if (s->pci[0])
		off = append(buf, off, " pci=%s", s->pci);
	if (s->class_mask) {
		unsigned digits = s->class_mask == 0xff0000u ? 2 : s->class_mask == 0xffff00u ? 4 : 6;

		off = append(buf, off, " class=%0*x", (int)digits,
			     s->class_value >> (8 * (3 - digits / 2)));
	}
	for (unsigned i = 0; i < s->n_vfs; i++) {
		off = append(buf, off, "%s%u", i ? "," : " vfs=", s->vfs[i].lo);
		if (s->vfs[i].hi != s->vfs[i].lo)
			off = append(buf, off, "-%u", s->vfs[i].hi);
	}
}

bool pf_selector_matches_pf(const struct pf_selector *s, const struct pf_sel_device *d)
{
	if (s->vendor >= 0 && s->vendor != d->vendor)
		return false;
	if (s->device >= 0 && s->device != d->device)
		return false;
	if (s->driver[0] && fnmatch(s->driver, d->driver ? d->driver : "", 0) != 0)
		return false;
	/* a PF without a netdev has no name to match */
	if (s->pf_name[0] && (!d->netdev || !d->netdev[0] || fnmatch(s->pf_name, d->netdev, 0) != 0))
		return false;
	if (s->pci[0] && fnmatch(s->pci, d->pci_addr ? d->pci_addr : "", 0) != 0)
		return false;
	if (s->class_mask && (d->pci_class == 0 || (d->pci_class & s->class_mask) != s->class_value))
		return false;
	return true;
}

bool pf_selector_covers_vf(const struct pf_selector *s, uint32_t vf_index)
{
	if (!s->n_vfs)
		return true;
	for (unsigned i = 0; i < s->n_vfs; i++)
		if (vf_index >= s->vfs[i].lo && vf_index <= s->vfs[i].hi)
			return true;
	return false;
}

bool pf_selectors_has_include(const struct pf_selectors *l)
{
	for (unsigned i = 0; i < l->n; i++)
		if (l->sel[i].action == PF_SEL_INCLUDE)
			return true;
	return false;
}

static const struct pf_selector default_include = {
	.action = PF_SEL_INCLUDE, .vendor = -1, .device = -1,
	.class_value = 0x020000u, .class_mask = 0xff0000u,
};

/* vf < 0: the PF itself (an include covers it whatever its ranges; only an exclude without
 * ranges takes it out). */
static bool managed(const struct pf_selectors *l, const struct pf_sel_device *d, int64_t vf)
{
	bool included = false;

	if (!pf_selectors_has_include(l))
		included = pf_selector_matches_pf(&default_include, d);
	for (unsigned i = 0; i < l->n; i++) {
		const struct pf_selector *s = &l->sel[i];

		if (!pf_selector_matches_pf(s, d))
			continue;
		if (s->action == PF_SEL_EXCLUDE) {
			if (vf < 0 ? s->n_vfs == 0 : pf_selector_covers_vf(s, (uint32_t)vf))
				return false;
		} else if (vf < 0 || pf_selector_covers_vf(s, (uint32_t)vf)) {
			included = true;
		}
	}
	return included;
}

bool pf_selectors_manage_pf(const struct pf_selectors *l, const struct pf_sel_device *d)
{
	return managed(l, d, -1);
}

bool pf_selectors_manage_vf(const struct pf_selectors *l, const struct pf_sel_device *d,
			    uint32_t vf_index)
{
	return managed(l, d, -1) && managed(l, d, vf_index);
}

int pf_selectors_parse(const char *text, struct pf_selectors *ret, char *why, size_t why_len)
{
	struct pf_selectors *l = calloc(1, sizeof(*l));
	unsigned line = 0;
	int r = 0;

	if (!l)
		return reason_err(-ENOMEM, why, why_len, "out of memory");
	while (*text) {
		size_t n = strcspn(text, "\n");
		char buf[PF_SEL_TEXT_MAX], reason[256];
		struct pf_selector s;
		const char *p;

		line++;
		if (n >= sizeof(buf)) {
			r = reason_err(-EINVAL, why, why_len, "line %u: longer than %d characters",
				       line, PF_SEL_TEXT_MAX - 1);
			goto out;
		}
		memcpy(buf, text, n);
		buf[n] = '\0';
		text += n + (text[n] == '\n');
		for (p = buf; *p == ' ' || *p == '\t'; p++)
			;
		if (!*p || *p == '#')
			continue;
		r = pf_selector_parse(p, &s, reason, sizeof(reason));
		if (!r)
			r = pf_selectors_add(l, &s);
		if (r) {
			r = reason_err(-EINVAL, why, why_len, "line %u: %s", line,
				       r == -ENOSPC ? "more than 64 selectors" :
				       r == -EEXIST ? "the same selector again" : reason);
			goto out;
		}
	}
	*ret = *l;
out:
	free(l);
	return r;
}

char *pf_selectors_render(const struct pf_selectors *l)
{
	size_t cap = 128 + (size_t)l->n * PF_SEL_TEXT_MAX, off;
	char *out = malloc(cap);

	if (!out)
		return NULL;
	off = (size_t)snprintf(out, cap, "# vfpool PF selectors (vfpoolctl pf select; vfpoold(8)):"
			       " one a line\n");
	for (unsigned i = 0; i < l->n; i++) {
		char t[PF_SEL_TEXT_MAX];

		pf_selector_format(&l->sel[i], t);
		off += (size_t)snprintf(out + off, cap - off, "%s\n", t);
	}
	return out;
}

static bool same(const struct pf_selector *a, const struct pf_selector *b)
{
	char x[PF_SEL_TEXT_MAX], y[PF_SEL_TEXT_MAX];

	pf_selector_format(a, x);
	pf_selector_format(b, y);
	return strcmp(x, y) == 0;
}

int pf_selectors_add(struct pf_selectors *l, const struct pf_selector *s)
{
	for (unsigned i = 0; i < l->n; i++)
		if (same(&l->sel[i], s))
			return -EEXIST;
	if (l->n == PF_SEL_MAX)
		return -ENOSPC;
	l->sel[l->n++] = *s;
	return 0;
}

int pf_selectors_del(struct pf_selectors *l, unsigned index)
{
	if (index >= l->n)
		return -ENOENT;
	memmove(&l->sel[index], &l->sel[index + 1], (l->n - index - 1) * sizeof(l->sel[0]));
	l->n--;
	return 0;
}
