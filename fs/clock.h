/*
 * clock.h - the daemon's clock: the real one, or, for tests only, the
 * time written in a file (-o test_clock=PATH), so that tests of what time
 * changes (a runtime turning OFFLINE, a hidden value file coming back, an
 * mtime moving) advance it instead of sleeping.
 *
 * The file holds seconds since the epoch ("1764600000" or
 * "1764600000.25"); it is read at every call, so a test moves time by
 * writing it.  When it cannot be read the real clock answers.  Under a
 * test clock nothing that changes by time alone is kept by the kernel
 * (cache.c), since the kernel counts its timeouts on the real clock.
 */
#ifndef FS_CLOCK_H
#define FS_CLOCK_H

#include <stdint.h>

/* Uses the time in the file `path` from now on (NULL: the real clock). */
void fs_clock_use(const char *path);
/* Whether a test clock is in use. */
int fs_clock_is_test(void);
/* Now, in nanoseconds since the epoch. */
int64_t fs_now_ns(void);
/* The same, in the shape of model_config.now. */
int64_t fs_clock_model(void *ctx);

#endif
