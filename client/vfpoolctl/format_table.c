/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "client/vfpoolctl/format_table.h"
#include "client/vfpoolctl/format_text.h"

void table_init(struct table *t, const char *align, ...)
{
	va_list ap;

	memset(t, 0, sizeof(*t));
	va_start(ap, align);
	for (; align[t->cols] && t->cols < TABLE_COLS_MAX; t->cols++) {
		t->right[t->cols] = align[t->cols] == 'r';
		t->header[t->cols] = va_arg(ap, const char *);
	}
	va_end(ap);
}

void table_cell(struct table *t, const char *s)
{
	size_t n = ctl_text_width(s) * 4 + 1; /* ctl_text's output, bytes */
	char *cell;

	if (t->oom)
		return;
	if (t->filled % t->cols == 0 && t->filled / t->cols == t->cap) {
		unsigned cap = t->cap ? t->cap * 2 : 16;
		char **cells = realloc(t->cells, (size_t)cap * t->cols * sizeof(*cells));

		if (!cells) {
			t->oom = true;
			return;
		}
		t->cells = cells;
		t->cap = cap;
	}
	cell = malloc(n);
	if (!cell) {
		t->oom = true;
		return;
	}
	t->cells[t->filled++] = (char *)ctl_text(cell, n, s);
	t->rows = (t->filled + t->cols - 1) / t->cols;
}

void table_cellf(struct table *t, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	table_cell(t, buf);
}

/* Columns of already escaped text: one per UTF-8 character. */
static size_t cols_of(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* Prints line cut to max_width columns (0: whole). */
static void put_line(FILE *f, const char *line, unsigned max_width)
{
	size_t bytes = 0, cols = 0;

	if (!max_width) {
		fprintf(f, "%s\n", line);
		return;
	}
	while (line[bytes]) {
		size_t n = 1;

		while (((unsigned char)line[bytes + n] & 0xc0) == 0x80)
			n++;
		if (cols + 1 > max_width)
			break;
		bytes += n;
		cols++;
	}
	fprintf(f, "%.*s\n", (int)bytes, line);
}

static void format_row(char *line, size_t len, const struct table *t, const char *const *cells,
		       const size_t *w)
{
	size_t off = 0;

	line[0] = '\0';
	for (unsigned c = 0; c < t->cols && off < len; c++) {
		const char *s = cells[c] ? cells[c] : "";
		size_t pad = w[c] > cols_of(s) ? w[c] - cols_of(s) : 0;
		bool last = c + 1 == t->cols;
		int n;

		if (t->right[c])
			n = snprintf(line + off, len - off, "%s%*s%s", c ? "  " : "", (int)pad, "", s);
		else
			n = snprintf(line + off, len - off, "%s%s%*s", c ? "  " : "", s,
				     last ? 0 : (int)pad, "");
		if (n < 0)
			break;
		off += (size_t)n;
	}
	/* a padded empty last column leaves nothing to see: no trailing blanks */
	while (off && off < len && line[off - 1] == ' ')
		line[--off] = '\0';
}

int table_print(FILE *f, const struct table *t, unsigned max_rows, unsigned max_width)
{
	size_t w[TABLE_COLS_MAX] = { 0 }, len = 64;
	unsigned shown = t->rows;
	char *line;

	if (t->oom)
		return -ENOMEM;
	for (unsigned c = 0; c < t->cols; c++)
		w[c] = cols_of(t->header[c]);
	for (unsigned i = 0; i < t->filled; i++) {
		size_t n = cols_of(t->cells[i]);

		if (n > w[i % t->cols])
			w[i % t->cols] = n;
	}
	for (unsigned c = 0; c < t->cols; c++)
		len += 4 * w[c] + 2;
	/* the header, the rows that fit, and the line that says how many did not */
	if (max_rows && t->rows + 1 > max_rows)
		shown = max_rows >= 2 ? max_rows - 2 : 0;
	line = malloc(len);
	if (!line)
		return -ENOMEM;
	format_row(line, len, t, t->header, w);
	put_line(f, line, max_width);
	for (unsigned r = 0; r < shown; r++) {
		const char *cells[TABLE_COLS_MAX] = { 0 };

		for (unsigned c = 0; c < t->cols && r * t->cols + c < t->filled; c++)
			cells[c] = t->cells[r * t->cols + c];
		format_row(line, len, t, cells, w);
		put_line(f, line, max_width);
	}
	if (shown < t->rows) {
		snprintf(line, len, "... %u more", t->rows - shown);
		put_line(f, line, max_width);
	}
	free(line);
	return 0;
}

void table_free(struct table *t)
{
	for (unsigned i = 0; i < t->filled; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->filled = t->rows = t->cap = 0;
}
