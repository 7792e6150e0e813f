/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/prom_parse.h"

#define MAX_FAMILIES 128

struct family {
	char name[128];
	bool help, type;
	char kind[16]; /* the TYPE: counter, gauge, histogram, summary, untyped */
	/* a histogram (one series, no label but le): its buckets so far */
	bool has_bucket, has_inf, has_sum, has_count;
	double last_le, inf_value, last_bucket;
};

struct parser {
	struct family fam[MAX_FAMILIES];
	unsigned n_fam;
	char *why;
	size_t why_len;
	unsigned lineno;
};

static int fail(struct parser *p, const char *reason)
{
	snprintf(p->why, p->why_len, "line %u: %s", p->lineno, reason);
	return -1;
}

static bool name_char(int c, bool first)
{
	return isalpha(c) || c == '_' || c == ':' || (!first && isdigit(c));
}

/* Reads a metric name at s into out; returns its length, 0 if none or too long. */
static size_t read_name(const char *s, char *out, size_t cap)
{
	size_t n = 0;

	while (name_char((unsigned char)s[n], n == 0))
		n++;
	if (n == 0 || n >= cap)
		return 0;
	memcpy(out, s, n);
	out[n] = '\0';
	return n;
}

static struct family *find(struct parser *p, const char *name)
{
	for (unsigned i = 0; i < p->n_fam; i++)
		if (strcmp(p->fam[i].name, name) == 0)
			return &p->fam[i];
	return NULL;
}

static int comment(struct parser *p, const char *line)
{
	char name[128];
	const char *rest;
	bool help = strncmp(line, "# HELP ", 7) == 0, type = strncmp(line, "# TYPE ", 7) == 0;
	struct family *f;
	size_t n;

	if (!help && !type)
		return 0; /* a plain comment */
	n = read_name(line + 7, name, sizeof(name));
	if (!n || line[7 + n] != ' ')
		return fail(p, "HELP/TYPE without a valid metric name and text");
	rest = line + 7 + n + 1;
	f = find(p, name);
	if (!f) {
		if (p->n_fam == MAX_FAMILIES)
			return fail(p, "too many families");
		f = &p->fam[p->n_fam++];
		memset(f, 0, sizeof(*f));
		strcpy(f->name, name);
	}
	if (help) {
		if (f->help)
			return fail(p, "second HELP for a family");
		f->help = true;
		return 0;
	}
	if (f->type)
		return fail(p, "second TYPE for a family");
	if (strcmp(rest, "counter") && strcmp(rest, "gauge") && strcmp(rest, "histogram") &&
	    strcmp(rest, "summary") && strcmp(rest, "untyped"))
		return fail(p, "unknown TYPE");
	f->type = true;
	snprintf(f->kind, sizeof(f->kind), "%s", rest);
	return 0;
}

/* k="v",... up to the closing brace; returns the index after '}' or -1. */
static long labels(struct parser *p, const char *s, char *out, size_t cap)
{
	size_t i = 0;

	for (;;) {
		char lname[128];
		size_t n;

		if (s[i] == '}')
			break;
		n = read_name(s + i, lname, sizeof(lname));
		if (!n || strchr(lname, ':') || s[i + n] != '=' || s[i + n + 1] != '"')
			return fail(p, "label name or '=\"' expected");
		i += n + 2;
		while (s[i] != '"') {
			if (!s[i])
				return fail(p, "unterminated label value");
			if (s[i] == '\\') {
				if (s[i + 1] != '\\' && s[i + 1] != '"' && s[i + 1] != 'n')
					return fail(p, "bad escape in label value");
				i++;
			}
			i++;
		}
		i++;
		if (s[i] == ',')
			i++;
		else if (s[i] != '}')
			return fail(p, "',' or '}' expected after a label");
	}
	if (i >= cap)
		return fail(p, "labels too long");
	memcpy(out, s, i);
	out[i] = '\0';
	return (long)i + 1;
}

/* The value of le in labels that are exactly le="v" (this reader's histograms carry no
 * other label); 0, or -1 with the reason. */
static int bucket_le(struct parser *p, const char *labels_text, double *ret_le)
{
	size_t n = strlen(labels_text);
	char *end;

	if (strncmp(labels_text, "le=\"", 4) != 0 || n < 6 || labels_text[n - 1] != '"' ||
	    strchr(labels_text + 4, '"') != labels_text + n - 1)
		return fail(p, "histogram bucket without an le label (or with other labels)");
	if (strcmp(labels_text, "le=\"+Inf\"") == 0) {
		*ret_le = HUGE_VAL;
		return 0;
	}
	*ret_le = strtod(labels_text + 4, &end);
	if (end != labels_text + n - 1 || isinf(*ret_le) || isnan(*ret_le))
		return fail(p, "histogram le is not a number");
	return 0;
}

/* A histogram's series: buckets in increasing le with cumulative (non-decreasing) counts
 * ending at +Inf, then _sum and _count, _count equal to the +Inf bucket. */
static int histogram_sample(struct parser *p, struct family *f, const struct prom_sample *s)
{
	const char *sfx = s->name + strlen(f->name);
	double le;

	if (strcmp(sfx, "_bucket") == 0) {
		if (bucket_le(p, s->labels, &le))
			return -1;
		if (f->has_inf || f->has_sum || f->has_count)
			return fail(p, "histogram bucket after +Inf, _sum or _count");
		if (f->has_bucket && le <= f->last_le)
			return fail(p, "histogram buckets not in increasing le");
		if (f->has_bucket && s->value < f->last_bucket)
			return fail(p, "histogram buckets not cumulative");
		f->has_bucket = true;
		f->last_le = le;
		f->last_bucket = s->value;
		if (isinf(le)) {
			f->has_inf = true;
			f->inf_value = s->value;
		}
		return 0;
	}
	if (s->labels[0])
		return fail(p, "histogram _sum/_count with labels");
	if (!f->has_inf)
		return fail(p, "histogram _sum/_count before its +Inf bucket");
	if (strcmp(sfx, "_sum") == 0) {
		if (f->has_sum)
			return fail(p, "second histogram _sum");
		f->has_sum = true;
		return 0;
	}
	if (strcmp(sfx, "_count") != 0)
		return fail(p, "histogram sample without _bucket, _sum or _count");
	if (f->has_count)
		return fail(p, "second histogram _count");
	if (s->value != f->inf_value)
		return fail(p, "histogram _count differs from its +Inf bucket");
	f->has_count = true;
	return 0;
}

static int sample(struct parser *p, const char *line, struct prom_doc *d)
{
	struct prom_sample s = { 0 };
	const char *v;
	struct family *f;
	char *end;
	size_t n = read_name(line, s.name, sizeof(s.name));

	if (!n)
		return fail(p, "invalid metric name");
	v = line + n;
	if (*v == '{') {
		long k = labels(p, v + 1, s.labels, sizeof(s.labels));

		if (k < 0)
			return -1;
		v += 1 + k;
	}
	if (*v != ' ')
		return fail(p, "space expected before the value");
	s.value = strtod(v + 1, &end);
	if (end == v + 1 || (*end && *end != ' '))
		return fail(p, "value is not a number");
	f = find(p, s.name);
	if (!f) {
		/* histogram and summary series carry a suffix on the family name */
		static const char *const sfx[] = { "_bucket", "_sum", "_count" };
		char base[128];

		for (size_t i = 0; i < 3 && !f; i++) {
			size_t l = strlen(s.name), sl = strlen(sfx[i]);

			if (l > sl && strcmp(s.name + l - sl, sfx[i]) == 0) {
				memcpy(base, s.name, l - sl);
				base[l - sl] = '\0';
				f = find(p, base);
			}
		}
		if (f && f->type && strcmp(f->kind, "histogram") && strcmp(f->kind, "summary"))
			return fail(p, "_bucket/_sum/_count on a family that is no histogram");
	} else if (f->type && strcmp(f->kind, "histogram") == 0) {
		return fail(p, "histogram sample without _bucket, _sum or _count");
	}
	if (!f || !f->help || !f->type)
		return fail(p, "sample before its family's HELP and TYPE");
	if (strcmp(f->kind, "histogram") == 0 && histogram_sample(p, f, &s))
		return -1;
	d->samples = realloc(d->samples, (d->n + 1) * sizeof(*d->samples));
	if (!d->samples)
		return fail(p, "out of memory");
	d->samples[d->n++] = s;
	return 0;
}

int prom_parse(const char *text, struct prom_doc *ret, char *why, size_t why_len)
{
	struct parser *p = calloc(1, sizeof(*p));
	struct prom_doc d = { 0 };
	char *copy = strdup(text), *save = NULL;
	int r = 0;

	if (!p || !copy) {
		free(p);
		free(copy);
		snprintf(why, why_len, "out of memory");
		return -1;
	}
	p->why = why;
	p->why_len = why_len;
	if (!*text || text[strlen(text) - 1] != '\n') {
		p->lineno = 0;
		r = fail(p, "the exposition must end with a newline");
	}
	for (char *line = strtok_r(copy, "\n", &save); line && !r; line = strtok_r(NULL, "\n", &save)) {
		p->lineno++;
		r = line[0] == '#' ? comment(p, line) : sample(p, line, &d);
	}
	for (unsigned i = 0; i < p->n_fam && !r; i++) {
		const struct family *f = &p->fam[i];

		if (strcmp(f->kind, "histogram") == 0 && f->has_bucket &&
		    (!f->has_inf || !f->has_sum || !f->has_count)) {
			snprintf(why, why_len,
				 "end: histogram %s lacks its +Inf bucket, _sum or _count", f->name);
			r = -1;
		}
	}
	free(copy);
	free(p);
	if (r) {
		free(d.samples);
		return -1;
	}
	*ret = d;
	return 0;
}

double prom_sum(const struct prom_doc *d, const char *name, const char *label)
{
	double sum = 0;

	for (unsigned i = 0; i < d->n; i++)
		if (strcmp(d->samples[i].name, name) == 0 &&
		    (!label || strstr(d->samples[i].labels, label)))
			sum += d->samples[i].value;
	return sum;
}

void prom_free(struct prom_doc *d)
{
	free(d->samples);
	d->samples = NULL;
	d->n = 0;
}
