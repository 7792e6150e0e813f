/* SPDX-License-Identifier: MIT */
/* A text table whose columns are as wide as their widest cell: vfpoolctl's views. Cells
 * are escaped for the terminal (format_text.h); numbers align right. */
#ifndef VFPOOL_VFPOOLCTL_FORMAT_TABLE_H
#define VFPOOL_VFPOOLCTL_FORMAT_TABLE_H

#include <stdbool.h>
#include <stdio.h>

#define TABLE_COLS_MAX 16

struct table {
	unsigned cols;
	const char *header[TABLE_COLS_MAX];
	bool right[TABLE_COLS_MAX];
	char **cells; /* rows x cols, each malloc'd and escaped */
	unsigned rows, cap, filled;
	bool oom;
};

/* align: one letter a column, 'l' or 'r'; the headers follow, as many as letters. */
void table_init(struct table *t, const char *align, ...);
/* The next cell of the current row (a row is full after cols cells). */
void table_cell(struct table *t, const char *s);
__attribute__((format(printf, 2, 3)))
void table_cellf(struct table *t, const char *fmt, ...);
/* Prints the header and the rows; max_rows > 0 prints that many lines in all (the header
 * and a last "... N more" line included) when the table is longer; max_width > 0 cuts
 * every line to that many columns. The last column is never padded. -ENOMEM if a cell
 * could not be stored. */
int table_print(FILE *f, const struct table *t, unsigned max_rows, unsigned max_width);
void table_free(struct table *t);

#endif
