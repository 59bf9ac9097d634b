/*
 * test_json.c - model_json_state(): a JSON object that is whole, one that
 * more bytes may still complete, and one no bytes can, refused at its
 * first bad byte whatever that byte is: grammar, a second value, invalid
 * UTF-8, a NUL raw or as \u0000, unpaired surrogates, nesting.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "../../model/model_int.h"

static int state(const char *text)
{
	return model_json_state(text, strlen(text));
}

static void test_whole(void **unused)
{
	static const char *const whole[] = {
		"{}",
		" \t\r\n{}\n\n",
		"{\"a\": [1, -2.5e3, 0, true, false, null, \"x\"], \"b\": {}}",
		"{\"s\": \"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\ud83d\\ude00\"}",
		"{\"s\": \"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}",
		"{\"big\": 1e400, \"long\": 123456789012345678901234567890}",
	};
	cJSON *o;

	(void)unused;
	for (size_t i = 0; i < sizeof(whole) / sizeof(whole[0]); i++) {
		if (state(whole[i]) != 0)
			fail_msg("'%s': %d, %s", whole[i], state(whole[i]),
					model_errmsg());
		/* and cJSON, which parses it next, takes it */
		o = cJSON_ParseWithLength(whole[i], strlen(whole[i]));
		assert_true(cJSON_IsObject(o));
		cJSON_Delete(o);
	}
}

/* Bytes that more bytes may still make an object: each waits, whatever
 * token it stops in. */
static void test_more(void **unused)
{
	static const char *const more[] = {
		"", "  \n", "{", "{\"a\"", "{\"a\":", "{\"a\": -", "{\"a\": 1.",
		"{\"a\": 1e", "{\"a\": 1e+", "{\"a\": 12", "{\"a\": tr",
		"{\"a\": fals", "{\"a\": nul", "{\"a\": true", "{\"a\": \"x",
		"{\"a\": \"x\\", "{\"a\": \"\\u00", "{\"a\": \"\\ud800",
		"{\"a\": \"\\ud800\\", "{\"a\": \"\\ud800\\udf",
		"{\"a\": \"\xe2\x82", "{\"a\": \"\xf0\x9f", "{\"a\": [1,",
		"{\"a\": {\"b\": [", "{\"a\": 1,", "{\"a\": -2.5e-",
		"{\"a\": [1, 2.5E+",
	};

	(void)unused;
	for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++)
		if (state(more[i]) != MODEL_JSON_MORE)
			fail_msg("'%s': %d, %s", more[i], state(more[i]),
					model_errmsg());
}

/* Bytes no continuation makes an object: refused at the first bad byte
 * (1-based in the message), the bytes before it still waiting, and
 * still refused with more after it. */
static void test_invalid_at_first_bad_byte(void **unused)
{
	static const struct {
		const char *text;
		size_t bad;
		const char *why;
	} bad[] = {
		{ "{not json", 1, "not JSON at byte 2: invalid object key" },
		{ "{\"imageUrl\" 1}", 12, "not JSON at byte 13: object key"
			" and value must be separated by a colon" },
		{ "{\"imageUrl\" 1", 12, "at byte 13" },
		{ "{\"a\": 1 \"b\": 2}", 8, "not JSON at byte 9: after key"
			" and value" },
		{ "{\"a\": 01}", 7, "at byte 8" },
		{ "{\"a\": [1,]}", 9, "not JSON at byte 10: unallowed token" },
		{ "{\"a\": tx", 7, "at byte 8" },
		{ "not json", 0, "not a JSON object at byte 1: it must start"
			" with '{'" },
		{ "[1]", 0, "not a JSON object at byte 1" },
		{ "  \"x\"", 2, "not a JSON object at byte 3" },
		{ "{}x", 2, "not JSON at byte 3: something follows the JSON"
			" object" },
		{ "{} {}", 3, "not JSON at byte 4: something follows" },
		{ "{}\n1", 3, "at byte 4: something follows" },
		{ "{\"a\": \"x\\q\"}", 9, "not JSON at byte 10 in field 'a':"
			" not an escape of JSON" },
		{ "{\"a\": \"x\ty\"}", 8, "not JSON at byte 9 in field 'a': a"
			" control character must be escaped" },
		{ "{\v}", 1, "not JSON at byte 2: a vertical tab" },
		{ "{}\f", 2, "not JSON at byte 3: a form feed" },
		{ "{\"a\": // x\n1}", 6, "at byte 7" },
		/* NUL, raw or escaped, in a value or a key */
		{ "{\"a\": \"\\u0000\"}", 12, "\\u0000 at byte 13 in field"
			" 'a': a string cannot hold a NUL" },
		{ "{\"a\": {\"b\": [\"x\", \"y\\u0000", 25, "\\u0000 at byte"
			" 26 in field 'a.b[1]'" },
		{ "{\"k\\u0000\": 1}", 8, "\\u0000 at byte 9 in a key:" },
		{ "{\"a\": {\"k\\u0000", 14, "in a key of 'a':" },
		/* invalid UTF-8: overlong, a surrogate, past U+10FFFF, a
		 * stray continuation byte, a lead byte cut short */
		{ "{\"a\": \"\xc0\xaf\"}", 7, "invalid UTF-8 at byte 8 in field"
			" 'a'" },
		{ "{\"a\": \"\xe0\x80\x80\"}", 8, "invalid UTF-8 at byte 9" },
		{ "{\"a\": \"\xed\xa0\x80\"}", 8, "invalid UTF-8 at byte 9" },
		{ "{\"a\": \"\xf4\x90\x80\x80\"}", 8, "invalid UTF-8 at byte"
			" 9" },
		{ "{\"a\": \"x\x80\"}", 8, "invalid UTF-8 at byte 9" },
		{ "{\"a\": \"\xe2\x82\"}", 9, "invalid UTF-8 at byte 10" },
		{ "{\"a\": \"\xff\"}", 7, "invalid UTF-8 at byte 8" },
		{ "{\"\xfe\": 1}", 2, "invalid UTF-8 at byte 3 in a key" },
		{ "{\"a\": \xc3\xa9}", 6, "not JSON at byte 7" },
		/* UTF-16 surrogates must pair, as cJSON wants */
		{ "{\"a\": \"\\udc00\"}", 10, "an unpaired UTF-16 surrogate at"
			" byte 11 in field 'a'" },
		{ "{\"a\": \"\\ud800\"}", 13, "an unpaired UTF-16 surrogate at"
			" byte 14" },
		{ "{\"a\": \"\\ud800\\n\"}", 14, "at byte 15" },
		{ "{\"a\": \"\\ud800\\u0041\"}", 15, "at byte 16" },
	};
	size_t at;

	(void)unused;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *t = bad[i].text;
		size_t len = strlen(t);
		char more[256];
		int ret;

		at = 999;
		ret = model_json_check(NULL, t, len, &at);
		if (ret != -EINVAL || at != bad[i].bad ||
		    !strstr(model_errmsg(), bad[i].why))
			fail_msg("'%s': %d at %zu, '%s'; want %zu, '%s'",
					t, ret, at, model_errmsg(), bad[i].bad,
					bad[i].why);
		ret = model_json_state(t, bad[i].bad);
		if (ret != MODEL_JSON_MORE && ret != 0)
			fail_msg("'%s': its first %zu bytes give %d (%s)", t,
					bad[i].bad, ret, model_errmsg());
		assert_int_equal(model_json_state(t, bad[i].bad + 1), -EINVAL);
		snprintf(more, sizeof(more), "%s\"}]}}}", t);
		assert_int_equal(state(more), -EINVAL);
	}
}

/* A NUL byte is refused wherever it is, and so is nesting past 64. */
static void test_nul_and_depth(void **unused)
{
	char deep[200];
	size_t at = 0;

	(void)unused;
	assert_int_equal(model_json_check(NULL, "{\"a\": \"x\0\"}", 11, &at),
			-EINVAL);
	assert_int_equal(at, 8);
	assert_string_equal(model_errmsg(), "not JSON at byte 9 in field 'a':"
			" a NUL byte");
	assert_int_equal(model_json_check(NULL, "{}\0", 3, &at), -EINVAL);
	assert_int_equal(at, 2);
	assert_int_equal(model_json_check(NULL, "\0{}", 3, &at), -EINVAL);
	assert_int_equal(at, 0);
	memset(deep, 0, sizeof(deep));
	deep[0] = '{';
	memcpy(deep + 1, "\"a\":", 4);
	memset(deep + 5, '[', 63);
	assert_int_equal(state(deep), MODEL_JSON_MORE);
	deep[5 + 63] = '[';
	assert_int_equal(model_json_check("spec", deep, strlen(deep), &at),
			-EINVAL);
	assert_int_equal(at, 5 + 63);
	assert_string_equal(model_errmsg(), "spec: too deep at byte 69:"
			" objects and arrays nest at most 64 levels");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole),
		cmocka_unit_test(test_more),
		cmocka_unit_test(test_invalid_at_first_bad_byte),
		cmocka_unit_test(test_nul_and_depth),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
