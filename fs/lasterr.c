/*
 * lasterr.c - a small table of the last failure per uid.
 *
 * Bounded (LASTERR_USERS entries, each line capped), so that no user can
 * make the daemon grow by failing often.
 */
#include "clock.h"
#include "lasterr.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../model/model.h"

struct lasterr_entry {
	uid_t uid;
	unsigned long seq;     /* 0: unused */
	char line[768];
};

static struct lasterr_entry table[LASTERR_USERS];
static unsigned long seq;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* Copies `s` with control characters shown as '?', so a name with a
 * newline cannot forge a log line. */
static void sanitize(char *dst, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i + 1 < n && s[i]; i++)
		dst[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ?
			'?' : s[i];
	dst[i] = '\0';
}

void lasterr_record(uid_t uid, const char *op, const char *path, int err,
		const char *why)
{
	struct lasterr_entry *slot = NULL;
	char when[MODEL_TIME_MAX], p[256], w[400];
	model_time_format(fs_now_ns(), when);
	sanitize(p, sizeof(p), path);
	sanitize(w, sizeof(w), why && *why ? why : strerror(-err));
	pthread_mutex_lock(&lock);
	for (int i = 0; i < LASTERR_USERS; i++) {
		if (table[i].seq && table[i].uid == uid) {
			slot = &table[i];
			break;
		}
		if (!slot || table[i].seq < slot->seq)
			slot = &table[i];
	}
	slot->uid = uid;
	slot->seq = ++seq;
	snprintf(slot->line, sizeof(slot->line), "%s %s %s: %s (%s)", when,
			op, p, w, strerror(-err));
	fprintf(stderr, "runtimefs: uid %u: %s\n", (unsigned)uid, slot->line);
	pthread_mutex_unlock(&lock);
}

int lasterr_show(uid_t uid, struct buf *out)
{
	int ret = 0;

	pthread_mutex_lock(&lock);
	for (int i = 0; i < LASTERR_USERS; i++)
		if (table[i].seq && table[i].uid == uid) {
			ret = buf_addf(out, "%s\n", table[i].line);
			break;
		}
	pthread_mutex_unlock(&lock);
	return ret;
}
