/* SPDX-License-Identifier: MIT */
/* Names as vfpoolctl prints them: JSON strings are valid UTF-8 whatever the bytes, text
 * never carries a control byte to the terminal. */
#include <criterion/criterion.h>
#include <string.h>

#include <json-c/json.h>

#include "client/vfpoolctl/format_text.h"

Test(format_text, json_keeps_utf8_and_replaces_each_invalid_byte)
{
	static const struct { const char *in, *want; } cases[] = {
		{ "ens1f0", "ens1f0" },
		{ "\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9" },                 /* été */
		{ "a\xff" "b", "a\xef\xbf\xbd" "b" },                          /* stray byte */
		{ "\xc3", "\xef\xbf\xbd" },                                    /* cut sequence */
		{ "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },                    /* overlong '/' */
		{ "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },    /* a surrogate */
		{ "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80" },                    /* 4 bytes */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct json_object *o = ctl_json_string(cases[i].in);

		cr_assert_str_eq(json_object_get_string(o), cases[i].want, "case %zu", i);
		json_object_put(o);
	}
}

Test(format_text, json_escapes_quotes_backslashes_and_control_bytes)
{
	struct json_object *o = ctl_json_string("a\"b\\c\x01\x1b/");

	cr_assert_str_eq(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							 JSON_C_TO_STRING_NOSLASHESCAPE),
			 "\"a\\\"b\\\\c\\u0001\\u001b/\"");
	json_object_put(o);
}

Test(format_text, text_shows_control_and_invalid_bytes_as_hex_escapes)
{
	char buf[64];

	cr_assert_str_eq(ctl_text(buf, sizeof(buf), "ens1f0"), "ens1f0");
	cr_assert_str_eq(ctl_text(buf, sizeof(buf), "a\x1b[2Jb"), "a\\x1b[2Jb");
	cr_assert_str_eq(ctl_text(buf, sizeof(buf), "a\\b"), "a\\\\b");
	cr_assert_str_eq(ctl_text(buf, sizeof(buf), "\xff\xc3\xa9"), "\\xff\xc3\xa9");
	cr_assert_str_eq(ctl_text(buf, sizeof(buf), "\xc2\x9b"), "\\xc2\\x9b", "a C1 control");
	cr_assert_eq(ctl_text_width("\x01\xc3\xa9"), 5u, "\\x01 and one character");
	/* cut on a character, never inside an escape */
	cr_assert_str_eq(ctl_text(buf, 6, "ab\x01"), "ab");
}
