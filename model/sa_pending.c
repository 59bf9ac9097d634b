/*
 * sa_pending.c - TEMPORARY stand-in for the service accounts of issue 3,
 * so that this branch builds: every runtime "gets" an account, and no
 * credential verifies yet.  Replaced by issue 3's implementation at merge.
 */
#include "model_int.h"

#include <errno.h>

int model_service_account_create(struct model *m, int64_t runtime_id)
{
	(void)m;
	(void)runtime_id;
	return 0;
}

int model_service_account_verify(struct model *m, int64_t runtime_id,
		const char *cred)
{
	(void)m;
	(void)runtime_id;
	(void)cred;
	return model_fail(-EACCES, "service accounts are not available yet");
}
