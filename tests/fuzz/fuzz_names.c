/*
 * fuzz_names.c - model_name_check() on any bytes (up to a NUL): a name it
 * takes is 1 to 63 of [A-Za-z0-9._-], not starting with '.' or '-';
 * ENAMETOOLONG past 255 bytes, EINVAL for the rest.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = fuzz_string(data, size);
	size_t len = strlen(name);
	int ret = model_name_check("runtime", name);

	if (ret == 0) {
		CHECK(len >= 1 && len <= MODEL_NAME_LEN_MAX);
		CHECK(name[0] != '.' && name[0] != '-');
		CHECK(strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				"abcdefghijklmnopqrstuvwxyz0123456789._-") ==
				len);
	} else {
		CHECK(ret == (len > 255 ? -ENAMETOOLONG : -EINVAL));
		CHECK(*model_errmsg() != '\0');
	}
	free(name);
	return 0;
}
