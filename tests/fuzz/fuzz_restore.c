/*
 * fuzz_restore.c - a backup of any bytes, entry by entry as the restore
 * mount gives it: model_restore_path() and model_restore_check() on each
 * entry (values, times, UUIDs, service accounts, snippets, versions), then
 * model_restore_apply() of them all into an empty model on ":memory:".
 *
 * The input is entries separated by the byte 0x1e (ASCII's record
 * separator): each is a type ('d', 'f' or 'l'), a path, a newline, then
 * the file's bytes or the link's target, e.g.
 *
 *     f environments/prod/runtimes/a/registered\n2026-11-23T12:17:48Z\n
 *
 * What must hold: a refused restore leaves the model empty; a path
 * refused on its own is refused in a restore too.  After a restore that
 * went in, the model is made anew.
 */
#include "fuzz.h"

#define ENTRIES_MAX 64

static struct model *m;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct model_restore_entry e[ENTRIES_MAX];
	char *text = malloc(size + 1), *paths[ENTRIES_MAX];
	size_t n = 0, at = 0;
	int refused = 0, ret;

	if (!m)
		m = fuzz_model();
	CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	while (at < size && n < ENTRIES_MAX) {
		char *rec = text + at, *end = memchr(rec, 0x1e, size - at);
		size_t len = end ? (size_t)(end - rec) : size - at;
		char *nl = memchr(rec, '\n', len);
		size_t plen = nl ? (size_t)(nl - rec) : len;

		at += len + 1;
		if (plen < 2 || rec[1] != ' ')
			continue;
		paths[n] = fuzz_string((const uint8_t *)rec + 2, plen - 2);
		e[n].path = paths[n];
		e[n].type = rec[0];
		e[n].data = nl ? nl + 1 : rec + len;
		e[n].len = nl ? len - plen - 1 : 0;
		e[n].mtime_ns = 0;
		ret = model_restore_path(e[n].path, e[n].type);
		CHECK(ret == 0 || ret == 1 || ret == -EPERM || ret == -EINVAL ||
				ret == -ENAMETOOLONG);
		refused |= ret < 0;
		if (ret == 0 && e[n].type == 'f') {
			ret = model_restore_check(e[n].path, e[n].data,
					e[n].len);
			CHECK(ret == 0 || ret == -EINVAL || ret == -EFBIG);
		}
		n++;
	}
	fuzz_now += FUZZ_SEC;
	ret = model_restore_apply(m, e, n);
	if (refused)
		CHECK(ret != 0);
	if (ret) {
		CHECK(*model_errmsg() != '\0');
		CHECK(model_restore_empty(m) == 0);
	} else {
		model_close(m);
		m = NULL;
	}
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(text);
	return 0;
}
