/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "client/vfpoolctl/format_text.h"

size_t utf8_sequence(const unsigned char *s)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0; /* a NUL ends the string here too */
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, UTF-16 surrogates and past U+10FFFF are not UTF-8 */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

struct json_object *ctl_json_string(const char *s)
{
	static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */
	size_t len = strlen(s), out = 0;
	struct json_object *o;
	char *buf;

	/* at most three bytes out for each byte in */
	buf = malloc(3 * len + 1);
	if (!buf)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_sequence((const unsigned char *)s + i);

		if (n) {
			memcpy(buf + out, s + i, n);
			out += n;
			i += n;
		} else {
			memcpy(buf + out, replacement, 3);
			out += 3;
			i++;
		}
	}
	o = json_object_new_string_len(buf, (int)out);
	free(buf);
	return o;
}

int ctl_json_print(FILE *f, struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE);
	int r = fprintf(f, "%s\n", s ? s : "null") < 0 ? -EIO : 0;

	json_object_put(o);
	return r;
}

/* The printable form of the character at s: its bytes (n of them) when printable, else
 * NULL and esc holds "\xNN" for the first byte (the caller moves on by one byte). */
static size_t text_char(const unsigned char *s, char esc[5], bool *escaped)
{
	size_t n = utf8_sequence(s);

	*escaped = true;
	if (n == 1 && s[0] >= 0x20 && s[0] < 0x7f && s[0] != '\\') {
		*escaped = false;
		return 1;
	}
	if (n == 1 && s[0] == '\\') {
		memcpy(esc, "\\\\", 3);
		return 1;
	}
	/* C1 controls (U+0080..U+009F) are as dangerous as C0 ones */
	if (n == 2 && !(s[0] == 0xc2 && s[1] < 0xa0)) {
		*escaped = false;
		return 2;
	}
	if (n > 2) {
		*escaped = false;
		return n;
	}
	snprintf(esc, 5, "\\x%02x", s[0]);
	return 1;
}

const char *ctl_text(char *buf, size_t len, const char *s)
{
	size_t out = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p && len;) {
		char esc[5];
		bool escaped;
		size_t n = text_char(p, esc, &escaped);
		const char *src = escaped ? esc : (const char *)p;
		size_t w = escaped ? strlen(esc) : n;

		if (out + w >= len)
			break;
		memcpy(buf + out, src, w);
		out += w;
		p += n;
	}
	if (len)
		buf[out] = '\0';
	return buf;
}

size_t ctl_text_width(const char *s)
{
	size_t cols = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		char esc[5];
		bool escaped;
		size_t n = text_char(p, esc, &escaped);

		cols += escaped ? strlen(esc) : 1;
		p += n;
	}
	return cols;
}

void ctl_text_col(FILE *f, const char *s, size_t w)
{
	char buf[512];
	size_t cols = ctl_text_width(s);

	fputs(ctl_text(buf, sizeof(buf), s), f);
	for (; cols < w; cols++)
		fputc(' ', f);
}
