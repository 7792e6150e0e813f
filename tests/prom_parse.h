/* SPDX-License-Identifier: MIT */
/* A strict reader of the Prometheus text exposition format (0.0.4), enough to check that
 * what vfpoolctl metrics prints is what a scraper accepts. */
#ifndef VFPOOL_TESTS_PROM_PARSE_H
#define VFPOOL_TESTS_PROM_PARSE_H

#include <stddef.h>

struct prom_sample {
	char name[128];
	char labels[512]; /* as written, between the braces: k="v",k2="v2" */
	double value;
};

struct prom_doc {
	struct prom_sample *samples;
	unsigned n;
};

/* 0, or -1 with the offending line and the reason in why. Checks: metric and label names
 * valid, label values quoted and escaped, value numeric, every sample's family declared by
 * a HELP and a TYPE line before its first sample, TYPE known, no family declared twice,
 * _bucket/_sum/_count only on histograms and summaries. A histogram (one series, no label
 * but le): buckets in increasing le, cumulative, ending at le="+Inf", then _sum and a
 * _count equal to the +Inf bucket. */
int prom_parse(const char *text, struct prom_doc *ret_doc, char *why, size_t why_len);
/* Sum of the samples named name whose labels contain label (k="v"; NULL: all). */
double prom_sum(const struct prom_doc *d, const char *name, const char *label);
void prom_free(struct prom_doc *d);

#endif
