/*
 * icp_http.h - WSO2 ICP's runtime API on the daemon's listener (https.h,
 * -o icp_listen): POST /icp/heartbeat, /icp/deltaHeartbeat and
 * /icp/commandResult, answered from the model the mount serves.
 *
 * A request runs on one of the listener's threads, not a FUSE thread: it
 * begins and ends as a request of its own (request.h), with its own error
 * message, and its changes reach the kernel's caches the way a change
 * made through the mount does, since the model tells the notifier of
 * every change whoever made it (cache.h).
 */
#ifndef FS_ICP_HTTP_H
#define FS_ICP_HTTP_H

#include "fs.h"
#include "https.h"

/* Binds the listener and reads its certificate as `cfg` says (its paths
 * are ICP's), in the foreground before the daemon forks, into fs->icp.
 * 0, or -errno with errmsg() (store/errmsg.h). */
int icp_http_open(struct fs *fs, const struct https_cfg *cfg)
	__attribute__((warn_unused_result));

/* Starts answering, once fs->m is open (the session's init).  0 when
 * there is no listener. */
int icp_http_start(struct fs *fs) __attribute__((warn_unused_result));

/* Stops answering and lets the port go, before the model closes: what a
 * request is doing finishes, open connections are closed.  Safe when it
 * never started, and twice. */
void icp_http_stop(struct fs *fs);

#endif
