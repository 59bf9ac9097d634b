/*
 * fuzz.h - what the libFuzzer targets of tests/fuzz/ share.
 *
 * Each target feeds one parser of outside input the bytes libFuzzer
 * makes and checks what must hold whatever they are; CHECK() aborts with
 * the model's last message when it does not, so that libFuzzer keeps the
 * input as a finding.  The model runs on ":memory:" with a clock the
 * target sets (fuzz_now), and flushes heartbeat times only by hand.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../model/model_int.h"

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: CHECK(%s) failed; model: %s\n", \
				__FILE__, __LINE__, #cond, model_errmsg()); \
		abort(); \
	} \
} while (0)

#define FUZZ_SEC 1000000000LL

static int64_t fuzz_now = 1700000000LL * FUZZ_SEC;

static inline int64_t fuzz_clock(void *ctx)
{
	(void)ctx;
	return fuzz_now;
}

/* No caller: what a change writes to the audit log is no one's, as on
 * the daemon's own threads (and a restore's lines are read). */
static inline int fuzz_no_actor(void *ctx, struct model_actor *out)
{
	(void)ctx;
	(void)out;
	return -1;
}

/* A new, empty model on ":memory:". */
static inline struct model *fuzz_model(void)
{
	struct model_config cfg = { .offline_after_ns = 30 * FUZZ_SEC,
		.now = fuzz_clock, .flush_interval_ns = -1,
		.actor = fuzz_no_actor };
	struct model *m = NULL;

	CHECK(model_open(&m, ":memory:", &cfg) == 0);
	return m;
}

/* The input as a C string (a NUL in it ends it), malloc'd. */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	CHECK(s != NULL);
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
