/*
 * events.h - MOUNT/events, the event log as a file that grows (events.c).
 */
#ifndef FS_EVENTS_H
#define FS_EVENTS_H

#include "fs.h"
#include "tree.h"

#include <stdint.h>

/* Where one open file of the log reads: its offsets plus `delta` are the
 * stream's, set at its first read. */
struct fs_stream {
	int64_t delta;
	int placed;
	int sized;           /* it asked for st_size through the open file */
};

/* The open file asked for its size (lseek(SEEK_END) does, with the
 * file): it goes by st_size, its offsets are the stream's from now on. */
void fs_events_sized(struct fs_stream *st);

/* Answers a read of the log, now or when the next line comes (`flags`:
 * the file's, O_NONBLOCK reads 0 at the end). */
void fs_events_read(fuse_req_t req, struct model *m, struct fs_stream *st,
		size_t size, off_t off, int flags);
/* The log grew (or may have): answers the reads waiting for it.
 * fs_events_waiting() is whether any waits, without a lock. */
void fs_events_wake(void);
int fs_events_waiting(void);
/* Unmounting: every waiting read gets the end of the file. */
void fs_events_close(void);
/* The path of what an event is about (model_config's path_of). */
int fs_event_path(void *ctx, const struct model_at *at, char *buf,
		size_t size);

#endif
