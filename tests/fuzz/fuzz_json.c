/*
 * fuzz_json.c - model_json_state() on any bytes: an object it calls whole
 * is one cJSON parses, with nothing but blanks after it; bytes it refuses
 * stay refused whatever follows, and the bytes before the first bad one
 * it names are not refused; a prefix of bytes that wait waits too.
 */
#include "fuzz.h"

#include <cjson/cJSON.h>

/* What must hold of bytes refused at `bad`. */
static void check_refused(const char *text, size_t size, size_t bad)
{
	static const char *const tails[] = { "", "}", "\"}", "\"}]}}]}",
		"0 }", "rue}", " ", "\\u0041\"}" };
	char at[64];
	int ret;

	CHECK(bad < size);
	snprintf(at, sizeof(at), "at byte %zu", bad + 1);
	CHECK(strstr(model_errmsg(), at) != NULL);
	ret = model_json_state(text, bad);
	CHECK(ret == 0 || ret == MODEL_JSON_MORE);
	CHECK(model_json_state(text, bad + 1) == -EINVAL);
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		size_t n = strlen(tails[i]);
		char *more = malloc(size + n);

		CHECK(more != NULL);
		memcpy(more, text, size);
		memcpy(more + size, tails[i], n);
		CHECK(model_json_state(more, size + n) == -EINVAL);
		free(more);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *end = NULL;
	size_t bad = 0;
	int ret = model_json_check(NULL, text, size, &bad);
	cJSON *o;

	if (ret == -EINVAL) {
		check_refused(text, size, bad);
		return 0;
	}
	CHECK(ret == 0 || ret == MODEL_JSON_MORE);
	/* every prefix of bytes that wait, or of a whole object, waits or
	 * is whole (blanks may follow an object) */
	ret = model_json_state(text, size / 2);
	CHECK(ret == MODEL_JSON_MORE || ret == 0);
	if (model_json_state(text, size) == MODEL_JSON_MORE)
		return 0;
	o = cJSON_ParseWithLengthOpts(text, size, &end, 0);
	CHECK(cJSON_IsObject(o));
	while (end < text + size && *end && strchr(" \t\r\n", *end))
		end++;
	CHECK(end == text + size);
	cJSON_Delete(o);
	return 0;
}
