/*
 * backup.h - reading a backup back: the node table's `restore` handlers,
 * each the inverse of its node's `show` (tree.h), turn what tar, cp -a or
 * rsync -a copied into a restore mount (stage.h) into the model's typed
 * description of a backup (struct model_backup); the model builds it
 * (model_restore_apply()), and the tree of the model built is read back
 * and must show what was staged.
 *
 * All that is known here of file names and formats comes from the node
 * table: which name is which node kind, which a backup leaves out, which
 * are read back for their presence only (FS_BACKUP_*), which a directory
 * must hold.
 */
#ifndef FS_BACKUP_H
#define FS_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "tree.h"

struct fs;
struct stage;

/* The backup being read, and the objects of it that the entry being read
 * belongs to: the handlers take the bytes of one entry at `src` and put
 * what they say where it belongs. */
struct fs_restore {
	struct model_backup b;
	const char *src;                  /* the entry's path */
	int64_t mtime_ns;                 /* its mtime; 0: not known */
	struct model_backup_env *env;
	struct model_backup_project *pr;
	struct model_backup_integration *in;
	struct model_backup_runtime *rt;
	struct model_backup_endpoint *ep;
	/* integration views' copies of secrets, each checked against its
	 * environment's after the walk */
	struct model_backup_secret *copies;
	size_t ncopies;
	char **strs;                      /* the `src` strings it owns */
	size_t nstrs;
};

/* An empty backup to read into; fs_restore_release() frees what it
 * holds, wiping key material. */
void fs_restore_init(struct fs_restore *r);
void fs_restore_release(struct fs_restore *r);

/* What the entry `name` of type `type` ('d', 'f', 'l') in a directory of
 * kind `dir` is: *kind a node kind (*attr its attribute, for a runtime's
 * file), or FS_IGNORED for what a restore skips (names starting with '.',
 * what a backup leaves out, anything below those: `dir` FS_IGNORED).  A
 * file where a link goes is taken (tar's placeholder for it).  -EPERM
 * for what cannot be part of a tree, -EINVAL for a name that breaks the
 * rules of names; the message names `path`. */
int fs_backup_kind(int dir, const char *name, char type, const char *path,
		int *kind, const struct fs_attr **attr);

/* Checks one staged file of kind `p` at `path` on its own, as the
 * restore will read it: 0, or -EINVAL (-EFBIG) with the reason. */
int fs_backup_check(const struct fs_path *p, const char *path,
		const char *data, size_t len);

/* Reads what `s` stages into `r` (fs_restore_init() first): every entry
 * through its node's handler, and what each directory must hold. */
int fs_backup_read(struct stage *s, struct fs_restore *r);

/* Reads the staged tree, builds it into a database of its own beside
 * fs->db (store_restore_scratch()) and reads that back through the tree,
 * both ways: 0 when it shows what is staged.  With `keep`, the build then
 * takes the database's place (store_restore_commit()).  The reason of a
 * refusal is in fs_errmsg(), or in model_errmsg() when fs_errmsg() is
 * empty. */
int fs_backup_build(struct stage *s, struct fs *fs, int keep);

/* The restore handlers of the node table (tree.c) and of a runtime's
 * files (org.c). */
int fs_env_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len);
int fs_audit_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len);
int fs_critical_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len);
int fs_runtime_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len);
int fs_attr_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len);
int fs_project_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len);
int fs_integration_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len);
int fs_display_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len);
int fs_type_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len);
int fs_link_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len);
int fs_spec_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len);
int fs_service_account_restore(struct fs_restore *r,
		const struct fs_path *p, const char *data, size_t len);
int fs_version_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len);
int fs_endpoint_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len);
int fs_endpoint_version_restore(struct fs_restore *r,
		const struct fs_path *p, const char *data, size_t len);
int fs_endpoint_id_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len);
int fs_endpoint_created_restore(struct fs_restore *r,
		const struct fs_path *p, const char *data, size_t len);
int fs_endpoint_updated_restore(struct fs_restore *r,
		const struct fs_path *p, const char *data, size_t len);
int fs_secret_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len);
int fs_integration_secret_restore(struct fs_restore *r,
		const struct fs_path *p, const char *data, size_t len);
int fs_runtime_id_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len);
int fs_runtime_type_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len);
int fs_runtime_project_restore(struct fs_restore *r,
		const struct fs_path *p, const char *data, size_t len);
int fs_runtime_integration_restore(struct fs_restore *r,
		const struct fs_path *p, const char *data, size_t len);
int fs_runtime_environment_restore(struct fs_restore *r,
		const struct fs_path *p, const char *data, size_t len);
int fs_runtime_status_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len);
int fs_runtime_version_restore(struct fs_restore *r,
		const struct fs_path *p, const char *data, size_t len);
int fs_runtime_platform_restore(struct fs_restore *r,
		const struct fs_path *p, const char *data, size_t len);
int fs_runtime_os_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len);
int fs_runtime_registered_restore(struct fs_restore *r,
		const struct fs_path *p, const char *data, size_t len);
int fs_runtime_heartbeat_restore(struct fs_restore *r,
		const struct fs_path *p, const char *data, size_t len);
int fs_runtime_secret_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len);
int fs_runtime_secret_toml_restore(struct fs_restore *r,
		const struct fs_path *p, const char *data, size_t len);

#endif
