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
 * request_end(), before it replies.  `op` names it: with
 * RUNTIMEFS_COUNT_READS=1 in its environment the daemon logs how many
 * reading statements each one cost ("runtimefs: getattr read 0"), for
 * tests and for measuring. */
void request_begin(struct fuse_req *req, const char *op);
void request_end(void);

/* Who made the current request: its user, group and process (the thread
 * that made the system call). */
uid_t request_uid(void);
pid_t request_pid(void);
gid_t request_gid(void);
/* The path the current request names, for the audit log (set as it is
 * resolved); request_actor() is model_config's actor: who the current
 * request's caller is, -1 when the thread serves no request. */
void request_path(const char *path);
int request_actor(void *ctx, struct model_actor *out);

/* Whether the caller of the current request is in group `gid`. */
int request_in_group(gid_t gid);

/* Keeps `snap` (a reference from model_snapshot_get()) until the current
 * request ends: one reference each, the one given back if it holds `snap`
 * already; -EBUSY (and the reference given back) when the request holds
 * as many snapshots as it may. */
int request_hold(struct model *snap);

/* Gives back everything the current request holds. */
void request_release(void);


#endif
