/*
 * fuzz_restore.c - a backup of any bytes, entry by entry as the restore
 * mount stages it (fs/stage.c): each entry staged as a tool would make it
 * (the layout of the node table refusing what cannot be part of a tree),
 * each file checked on its own as at close (values, times, UUIDs,
 * service accounts, snippets, versions), the staged tree read into a
 * typed backup by the node table's restore handlers (fs/backup.c), and
 * that applied into an empty model on ":memory:" (model_restore_apply()).
 *
 * The input is entries separated by the byte 0x1e (ASCII's record
 * separator): each is a type ('d', 'f' or 'l'), a path, a newline, then
 * the file's bytes or the link's target, e.g.
 *
 *     f environments/prod/runtimes/a/registered\n2026-11-23T12:17:48Z\n
 *
 * What must hold: every refusal is one of the errnos the mount gives,
 * with a message; a refused restore leaves the model empty.  After a
 * restore that went in, the model is made anew.
 */
#include "fuzz.h"
#include "../../fs/backup.h"
#include "../../fs/fs.h"
#include "../../fs/stage.h"

#define ENTRIES_MAX 64

static struct model *m;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fs fs = { .locator = ":memory:" };
	struct fs_restore r;
	struct stage *s = NULL;
	char *text = malloc(size + 1);
	size_t n = 0, at = 0;
	int ret;

	if (!m)
		m = fuzz_model();
	CHECK(text != NULL);
	CHECK(stage_new(&s, &fs, (size_t)16 << 20) == 0);
	memcpy(text, data, size);
	text[size] = '\0';
	while (at < size && n < ENTRIES_MAX) {
		char *rec = text + at, *end = memchr(rec, 0x1e, size - at);
		size_t len = end ? (size_t)(end - rec) : size - at;
		char *nl = memchr(rec, '\n', len);
		size_t plen = nl ? (size_t)(nl - rec) : len;
		char *path;
		uint64_t id = 0;

		at += len + 1;
		if (plen < 2 || rec[1] != ' ')
			continue;
		path = fuzz_string((const uint8_t *)rec + 2, plen - 2);
		fs_errclear();
		ret = stage_put(s, path, rec[0], 0644, nl ? nl + 1 : "",
				nl ? len - plen - 1 : 0, 0, &id);
		CHECK(ret == 0 || ret == -EPERM || ret == -EINVAL ||
				ret == -ENAMETOOLONG || ret == -EEXIST ||
				ret == -ENOTDIR || ret == -EFBIG);
		if (ret == -EPERM || ret == -EINVAL)
			CHECK(*fs_errmsg() != '\0');
		if (ret == 0 && rec[0] == 'f') {
			ret = stage_flush(s, id);
			CHECK(ret == 0 || ret == -EINVAL || ret == -EFBIG);
			CHECK(ret == 0 || *fs_errmsg() != '\0');
		}
		free(path);
		n++;
	}
	fuzz_now += FUZZ_SEC;
	fs_restore_init(&r);
	ret = fs_backup_read(s, &r);
	CHECK(ret == 0 || *fs_errmsg() != '\0');
	if (!ret) {
		ret = model_restore_apply(m, &r.b);
		if (ret) {
			CHECK(*model_errmsg() != '\0');
			CHECK(model_restore_empty(m) == 0);
		} else {
			model_close(m);
			m = NULL;
		}
	}
	fs_restore_release(&r);
	stage_free(s);
	free(text);
	return 0;
}
