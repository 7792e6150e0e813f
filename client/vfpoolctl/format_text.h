/* SPDX-License-Identifier: MIT */
/* Names as vfpoolctl shows them: JSON strings that are always valid UTF-8, and text that
 * never sends a terminal a control byte. An interface name may hold any byte but '/' and
 * NUL; the daemon's strings and a state file are as hostile. */
#ifndef VFPOOL_VFPOOLCTL_FORMAT_TEXT_H
#define VFPOOL_VFPOOLCTL_FORMAT_TEXT_H

#include <stddef.h>
#include <stdio.h>

struct json_object;

/* Bytes of the valid UTF-8 sequence at s (1-4), or 0 when s does not start one. */
size_t utf8_sequence(const unsigned char *s);

/* A JSON string of s: valid UTF-8 as it is, each other byte U+FFFD (json-c escapes the
 * quotes, backslashes and control characters). NULL only without memory. */
struct json_object *ctl_json_string(const char *s);
/* Prints o compactly on one line and releases it; -EIO when f failed. */
int ctl_json_print(FILE *f, struct json_object *o);

/* s for a terminal: printable characters as they are, a backslash as "\\", every control
 * or invalid byte as "\xNN". Returns buf (cut to len, NUL-terminated). */
const char *ctl_text(char *buf, size_t len, const char *s);
/* Columns ctl_text(s) takes (one per character). */
size_t ctl_text_width(const char *s);
/* Prints ctl_text(s) left-aligned in a column of width w. */
void ctl_text_col(FILE *f, const char *s, size_t w);

#endif
