/*
 * test_errmsg.c - the one message of a request (store/errmsg.h): a layer
 * prefixes what the one below said, a thread's message is its own, and
 * a long message is cut, not overrun.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "../../store/errmsg.h"

static void test_set_prefix_clear(void **state)
{
	(void)state;
	errmsg_clear();
	assert_string_equal(errmsg(), "");
	assert_int_equal(errmsg_set(-ENOSPC, "commit: %s", "disk full"),
			-ENOSPC);
	assert_string_equal(errmsg(), "commit: disk full");
	/* the layer above prefixes the words below, read from the message
	 * itself */
	errmsg_set(-ENOSPC, "write /spec: %s", errmsg());
	assert_string_equal(errmsg(), "write /spec: commit: disk full");
	errmsg_clear();
	assert_string_equal(errmsg(), "");
}

static void test_long_message_cut(void **state)
{
	char big[2000];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	errmsg_set(-EINVAL, "%s", big);
	assert_true(strlen(errmsg()) > 100 && strlen(errmsg()) < 1000);
	errmsg_set(-EINVAL, "again: %s", errmsg());
	assert_int_equal(strncmp(errmsg(), "again: xxx", 10), 0);
}

static void *other_thread(void *arg)
{
	(void)arg;
	errmsg_set(-EPERM, "the other thread's");
	return (void *)(uintptr_t)!strcmp(errmsg(), "the other thread's");
}

static void test_one_per_thread(void **state)
{
	pthread_t t;
	void *ok;

	(void)state;
	errmsg_set(-EBUSY, "this thread's");
	assert_int_equal(pthread_create(&t, NULL, other_thread, NULL), 0);
	assert_int_equal(pthread_join(t, &ok), 0);
	assert_true(ok != NULL);
	assert_string_equal(errmsg(), "this thread's");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_prefix_clear),
		cmocka_unit_test(test_long_message_cut),
		cmocka_unit_test(test_one_per_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
