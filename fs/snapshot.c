/*
 * snapshot.c - handlers for snapshots/: `mkdir snapshots/NAME` freezes the
 * tree, `rmdir` drops it, and snapshots/NAME/ serves the frozen
 * environments/ and projects/ from the snapshot's own model, read-only.
 */
#include "nodes.h"
#include "request.h"

#include <stdio.h>
#include <string.h>

int fs_snapshot_lookup(struct fs_path *p, const char *name)
{
	struct model *snap;
	int ret = model_snapshot_get(p->live, name, &snap);

	if (ret || (ret = request_hold(snap)))
		return ret;
	p->m = snap;
	snprintf(p->snapshot, sizeof(p->snapshot), "%s", name);
	return 0;
}

struct fill_ctx {
	fs_fill_fn fill;
	void *ctx;
};

static int fill_snapshot(void *ctx, const char *name, int64_t taken_ns)
{
	struct fill_ctx *f = ctx;

	(void)taken_ns;
	return f->fill(f->ctx, name);
}

int fs_snapshot_list(const struct fs_path *dir, fs_fill_fn fill, void *ctx)
{
	struct fill_ctx f = { fill, ctx };

	return model_snapshot_list(dir->live, fill_snapshot, &f);
}

int fs_snapshot_show(const struct fs_path *p, struct fs_value *v)
{
	v->mtime_ns = model_snapshot_time(p->m);
	return 0;
}

int fs_snapshot_mkdir(const struct fs_path *dir, const char *name)
{
	return model_snapshot_create(dir->live, name);
}

int fs_snapshot_rmdir(const struct fs_path *p)
{
	return model_snapshot_delete(p->live, p->snapshot);
}
