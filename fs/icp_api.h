/*
 * icp_api.h - WSO2 Integration Control Plane's runtime API as runtimefs
 * serves it, for the HTTPS listener (fs/https.c) and for MOUNT/heartbeat:
 * the request bodies in, ICP's status codes and JSON replies out.  No
 * FUSE and no HTTP library here: the listener hands over the path, the
 * key id its JWT check verified, and the body.
 */
#ifndef FS_ICP_API_H
#define FS_ICP_API_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "../model/model.h"

/* Serves one request of ICP's runtime API: `url` is "/icp/heartbeat",
 * "/icp/deltaHeartbeat" or "/icp/commandResult", `key_id` the key id
 * the caller has already authenticated (the JWT's `kid`, whose HS256
 * signature verified with model_secret_material()), `body` the request
 * body of `len` bytes.  Returns the HTTP status, as ICP's runtime
 * service (icp_server/runtime_service.bal) answers: 201 for a heartbeat
 * taken (acknowledged or not, as Ballerina answers a POST resource),
 * 202 for a command result, 400 for what ICP refuses as a bad request
 * (an unknown or revoked key id, a bad heartbeatVersion or runtimeId, a
 * name toHandler() cannot make), 409 for an environment or runtime type
 * the key is not bound to, 404 for another url, 413 for a body past
 * MODEL_ICP_BODY_MAX, 503 for a failure that is not the runtime's (a
 * busy database): ICP's clients stop for good on 400, 401 and 409, so
 * no transient condition is answered with them.  `reply` receives the
 * JSON body (ICP's HeartbeatResponse, or {"message": ...} for a 4xx);
 * on -ENOMEM or a full `reply`, 500 and whatever fitted. */
int icp_serve(struct model *m, const char *url, const char *key_id,
		const char *body, size_t len, struct buf *reply);

/* Serves one request as it comes over HTTP: `authorization` is the
 * request's Authorization header (NULL when absent), checked as ICP's
 * runtime_service.bal does before anything else: "Bearer" and a JWT
 * (model/jwt.h) whose `kid` names a secret that is neither unknown nor
 * revoked (else 400, as ICP answers an unknown key id), signed with that
 * secret's material and with ICP's claims at `now_s` (else 401); then
 * icp_serve() with that key id.  The status and reply as icp_serve(). */
int icp_serve_http(struct model *m, const char *url,
		const char *authorization, const char *body, size_t len,
		int64_t now_s, struct buf *reply);

/* ICP's HeartbeatResponse for `r` into `reply`: acknowledged,
 * fullHeartbeatRequired, commands (ControlCommand objects),
 * supportedHeartbeatFields, and with `runtime_id` set the runtime's id
 * (the mount's reply names it; ICP's does not); `error` (or NULL) goes
 * into `errors`.  0 or -errno. */
int icp_reply_json(struct buf *reply, const struct model_heartbeat_reply *r,
		int runtime_id, const char *error);

#endif
