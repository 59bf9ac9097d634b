/*
 * request.h - what one FUSE request holds while it runs: the snapshot
 * models its paths resolved into.  They are given back when the request
 * returns, so a snapshot removed meanwhile stays whole until then.
 */
#ifndef FS_REQUEST_H
#define FS_REQUEST_H

#include "../model/model.h"

/* Keeps `snap` (a reference from model_snapshot_get()) until the current
 * request returns; -EBUSY (and the reference given back) when the request
 * already holds as many as it may. */
int request_hold(struct model *snap);

/* Gives back everything the current request holds. */
void request_release(void);

#endif
