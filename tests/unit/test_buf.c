/*
 * test_buf.c - the capped buffer: it grows, keeps a NUL after its bytes,
 * fills gaps with zeros, and refuses to pass its cap whatever is asked.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "../../fs/buf.h"

static void test_grow_and_cap(void **state)
{
	struct buf b;
	char big[100];

	(void)state;
	memset(big, 'x', sizeof(big));
	buf_init(&b, 64);
	assert_int_equal(buf_add(&b, "abc", 3), 0);
	assert_int_equal(buf_addf(&b, "-%d-", 42), 0);
	assert_string_equal(b.data, "abc-42-");
	assert_int_equal(b.len, 7);
	assert_int_equal(buf_add(&b, big, 57), 0);
	assert_int_equal(b.len, 64);
	assert_int_equal(buf_add(&b, "y", 1), -EFBIG);
	assert_int_equal(buf_addf(&b, "%s", "y"), -EFBIG);
	assert_int_equal(b.len, 64);
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_int_equal(buf_add(&b, big, 65), -EFBIG);
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

/* What a buffer would grow to is known before it grows. */
static void test_alloc_for(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 1000);
	assert_int_equal(buf_alloc_for(&b, 0), 64);
	assert_int_equal(buf_alloc_for(&b, 64), 128);
	assert_int_equal(buf_alloc_for(&b, 999), 1001);
	assert_int_equal(buf_alloc_for(&b, 1001), 0);
	assert_int_equal(buf_put(&b, 0, "x", 1), 0);
	assert_int_equal(b.alloc, 64);
	assert_int_equal(buf_alloc_for(&b, 63), 64);
	assert_int_equal(buf_alloc_for(&b, 300), 512);
	assert_int_equal(buf_put(&b, 300, "", 0), 0);
	assert_int_equal(b.alloc, 512);
	buf_release(&b);
}

static void test_put_at_offsets(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 16);
	assert_int_equal(buf_put(&b, 4, "zz", 2), 0);
	assert_int_equal(b.len, 6);
	assert_memory_equal(b.data, "\0\0\0\0zz", 7);
	assert_int_equal(buf_put(&b, 0, "ab", 2), 0);
	assert_int_equal(b.len, 6);
	assert_memory_equal(b.data, "ab\0\0zz", 7);
	assert_int_equal(buf_put(&b, 15, "1", 1), 0);
	assert_int_equal(buf_put(&b, 16, "1", 1), -EFBIG);
	assert_int_equal(buf_put(&b, (size_t)-1, "1", 1), -EFBIG);
	assert_int_equal(buf_put(&b, 8, "1", (size_t)-1), -EFBIG);
	buf_release(&b);
	assert_null(b.data);
	assert_int_equal(b.cap, 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grow_and_cap),
		cmocka_unit_test(test_put_at_offsets),
		cmocka_unit_test(test_alloc_for),
	};

	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
