/*
 * request.h - what one FUSE request holds while it runs: who asked, and
 * the snapshot models its paths resolved into.  Those are given back when
 * the request ends, so a snapshot removed meanwhile stays whole until then.
 */
#ifndef FS_REQUEST_H
#define FS_REQUEST_H

#include <sys/types.h>

#include "../model/model.h"

struct fuse_req;

/* Every operation starts with request_begin() and ends with
 * request_end(), before it replies. */
void request_begin(struct fuse_req *req);
void request_end(void);

/* Who made the current request: its user, group and process (the thread
 * that made the system call). */
uid_t request_uid(void);
pid_t request_pid(void);
gid_t request_gid(void);
/* Whether the caller of the current request is in group `gid`. */
int request_in_group(gid_t gid);

/* Keeps `snap` (a reference from model_snapshot_get()) until the current
 * request ends: one reference each, the one given back if it holds `snap`
 * already; -EBUSY (and the reference given back) when the request holds
 * as many snapshots as it may. */
int request_hold(struct model *snap);

/* Gives back everything the current request holds. */
void request_release(void);

/* model_runtime_get() and model_env_get(), read once per request: every
 * file of a runtime resolves its environment and the runtime, and a
 * listing with attributes (readdirplus) shows them all.  A change made
 * by the request forgets what it read (request_forget(), from cache.c). */
int request_runtime_get(struct model *m, const char *env, const char *name,
		struct model_runtime *out);
int request_env_get(struct model *m, const char *name, struct model_env *out);
/* model_endpoint_get(), the same way: each file of an endpoint reads it. */
int request_endpoint_get(struct model *m, const char *env, const char *name,
		const char *endpoint, struct model_endpoint *out);
void request_forget(void);

#endif
