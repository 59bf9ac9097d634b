/*
 * nodes.h - the handlers the node table in tree.c points at, one group per
 * part of the tree: org.c (the root, environments and runtimes),
 * project.c (projects, integrations and their views) and icp.c
 * (heartbeats and secrets).
 */
#ifndef FS_NODES_H
#define FS_NODES_H

#include "tree.h"

#include <stddef.h>

/* Directories whose mtime is the mount's start. */
int fs_show_started(const struct fs_path *p, struct fs_value *v);

int fs_readme_show(const struct fs_path *p, struct fs_value *v);
int fs_last_error_show(const struct fs_path *p, struct fs_value *v);
/* events.c: the event log's length and newest moment. */
int fs_events_show(const struct fs_path *p, struct fs_value *v);
/* The audit log's length and newest moment (the snapshot's in one). */
int fs_audit_show(const struct fs_path *p, struct fs_value *v);

int fs_env_lookup(struct fs_path *p, const char *name);
int fs_env_list(const struct fs_path *dir, fs_fill_fn fill, void *ctx);
int fs_env_show(const struct fs_path *p, struct fs_value *v);
int fs_env_mkdir(const struct fs_path *dir, const char *name);
int fs_env_rmdir(const struct fs_path *p);
int fs_critical_show(const struct fs_path *p, struct fs_value *v);
int fs_critical_store(const struct fs_path *p, const char *value);

int fs_runtime_lookup(struct fs_path *p, const char *name);
int fs_runtime_list(const struct fs_path *dir, fs_fill_fn fill, void *ctx);
int fs_runtime_show(const struct fs_path *p, struct fs_value *v);
int fs_runtime_mkdir(const struct fs_path *dir, const char *name);
int fs_runtime_rmdir(const struct fs_path *p);
int fs_attr_lookup(struct fs_path *p, const char *name);
int fs_attr_list(const struct fs_path *dir, fs_fill_fn fill, void *ctx);
int fs_attr_show(const struct fs_path *p, struct fs_value *v);
int fs_attr_unlink(const struct fs_path *p);

int fs_project_lookup(struct fs_path *p, const char *name);
int fs_project_list(const struct fs_path *dir, fs_fill_fn fill, void *ctx);
int fs_project_show(const struct fs_path *p, struct fs_value *v);
int fs_project_mkdir(const struct fs_path *dir, const char *name);
int fs_project_rmdir(const struct fs_path *p);
int fs_integration_lookup(struct fs_path *p, const char *name);
int fs_integration_list(const struct fs_path *dir, fs_fill_fn fill,
		void *ctx);
int fs_integration_show(const struct fs_path *p, struct fs_value *v);
int fs_integration_mkdir(const struct fs_path *dir, const char *name);
int fs_integration_rmdir(const struct fs_path *p);
int fs_type_show(const struct fs_path *p, struct fs_value *v);
int fs_type_store(const struct fs_path *p, const char *value);
int fs_scope_env_lookup(struct fs_path *p, const char *name);
int fs_link_lookup(struct fs_path *p, const char *name);
int fs_link_list(const struct fs_path *dir, fs_fill_fn fill, void *ctx);
int fs_link_show(const struct fs_path *p, struct fs_value *v);
/* A link's target as the tree shows it, relative so that it holds in any
 * copy of the tree; `integration`: in an integration's view. */
int fs_link_target(struct buf *b, int integration, const char *env,
		const char *name);
int fs_link_unlink(const struct fs_path *p);
int fs_link_symlink(const struct fs_path *dir, const char *name,
		const char *target);

int fs_snapshot_lookup(struct fs_path *p, const char *name);
int fs_snapshot_list(const struct fs_path *dir, fs_fill_fn fill, void *ctx);
int fs_snapshot_show(const struct fs_path *p, struct fs_value *v);
int fs_snapshot_mkdir(const struct fs_path *dir, const char *name);
int fs_snapshot_rmdir(const struct fs_path *p);
/* deploy.c: spec, ctl, service_account, versions, endpoints. */
int fs_spec_show(const struct fs_path *p, struct fs_value *v);
int fs_spec_store(const struct fs_path *p, const char *value);
int fs_ctl_store(const struct fs_path *p, const char *value);
int fs_service_account_show(const struct fs_path *p, struct fs_value *v);
int fs_deploy_dir_show(const struct fs_path *p, struct fs_value *v);
/* A version's number from its file name: the number as the tree writes
 * it, no leading zero; -ENOENT for any other name. */
int fs_version_name(const char *name, int64_t *out);
int fs_version_lookup(struct fs_path *p, const char *name);
int fs_version_list(const struct fs_path *dir, fs_fill_fn fill, void *ctx);
int fs_version_show(const struct fs_path *p, struct fs_value *v);
int fs_version_unlink(const struct fs_path *p);
int fs_endpoint_lookup(struct fs_path *p, const char *name);
int fs_endpoint_list(const struct fs_path *dir, fs_fill_fn fill, void *ctx);
int fs_endpoint_show(const struct fs_path *p, struct fs_value *v);
int fs_endpoint_mkdir(const struct fs_path *dir, const char *name);
int fs_endpoint_rmdir(const struct fs_path *p);
int fs_endpoint_version_show(const struct fs_path *p, struct fs_value *v);
int fs_endpoint_version_store(const struct fs_path *p, const char *value);
int fs_endpoint_url_show(const struct fs_path *p, struct fs_value *v);
int fs_endpoint_status_show(const struct fs_path *p, struct fs_value *v);
int fs_endpoint_id_show(const struct fs_path *p, struct fs_value *v);
int fs_endpoint_created_show(const struct fs_path *p, struct fs_value *v);
int fs_endpoint_updated_show(const struct fs_path *p, struct fs_value *v);

/* icp.c: what integration runtimes use, the heartbeat file and secrets. */
int fs_heartbeat_write(const struct fs_path *p, const char *data,
		size_t len, struct buf *reply);
int fs_secret_lookup(struct fs_path *p, const char *name);
int fs_secret_list(const struct fs_path *dir, fs_fill_fn fill, void *ctx);
int fs_secret_show(const struct fs_path *p, struct fs_value *v);
int fs_secret_store(const struct fs_path *p, const char *value);
int fs_secret_unlink(const struct fs_path *p);
int fs_secret_create(const struct fs_path *dir, const char *name);
int fs_runtime_secret_present(const struct model_runtime *rt);
int fs_runtime_secret_show(const struct model_runtime *rt,
		struct fs_value *v);
int fs_runtime_secret_unlink(const struct fs_path *p);
/* secret.toml: the bound secret's snippet with the runtime's name, so
 * that a backup holds its key material (0600). */
int fs_runtime_secret_toml_show(const struct fs_path *p, struct fs_value *v);

/* artifact.c: what integration runtimes report, artifacts/KIND/NAME/
 * and reported.json. */
int fs_artifacts_show(const struct fs_path *p, struct fs_value *v);
int fs_artifact_kind_lookup(struct fs_path *p, const char *name);
int fs_artifact_kind_list(const struct fs_path *dir, fs_fill_fn fill,
		void *ctx);
int fs_artifact_lookup(struct fs_path *p, const char *name);
int fs_artifact_list(const struct fs_path *dir, fs_fill_fn fill, void *ctx);
int fs_artifact_show(const struct fs_path *p, struct fs_value *v);
int fs_artifact_json_show(const struct fs_path *p, struct fs_value *v);
int fs_artifact_ctl_present(const struct fs_path *dir);
int fs_artifacts_present(const struct fs_path *dir);
int fs_artifact_ctl_store(const struct fs_path *p, const char *value);
int fs_runtime_reported_present(const struct model_runtime *rt);
int fs_runtime_reported_show(const struct fs_path *p, struct fs_value *v);

/* project.c: the display names a runtime's heartbeat gave. */
int fs_project_display_show(const struct fs_path *p, struct fs_value *v);
int fs_integration_display_show(const struct fs_path *p, struct fs_value *v);

#endif
