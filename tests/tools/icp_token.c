/*
 * icp_token.c - prints the bearer token a WSO2 ICP runtime would send
 * with a secret, so that shell tests, the bench and people with curl can
 * authenticate as a real runtime does (model/jwt.h):
 *
 *   icp-token [-m] [-H] SECRET [LIFETIME [NOW]]
 *
 * SECRET is KEYID.BASE64, split and used as both clients do (the key is
 * the text after the first dot).  LIFETIME is in seconds (default 3600,
 * the clients' default; may be negative, for an expired token), NOW the
 * issue time in Unix seconds (default: now).  -m makes the token as Micro
 * Integrator does (no nbf, compact JSON), else as the Ballerina bridge
 * does; -H prints the whole header line, "Authorization: Bearer TOKEN".
 *
 *   curl -H "$(icp-token -H "$secret")" -d @hb.json \
 *           https://localhost:9445/icp/heartbeat
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "../../model/jwt.h"

static int usage(void)
{
	fprintf(stderr, "usage: icp-token [-m] [-H] KEYID.BASE64 [LIFETIME"
			" [NOW]]\n");
	return 2;
}

/* A whole decimal number, or 0 and *ok cleared. */
static long long number(const char *s, int *ok)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		*ok = 0;
	return v;
}

int main(int argc, char **argv)
{
	enum jwt_style style = JWT_STYLE_BI;
	const char *kid, *key;
	size_t kidlen, keylen;
	char kidz[JWT_KID_MAX], out[1024];
	long long lifetime = JWT_LIFETIME_S, now = (long long)time(NULL);
	int header = 0, ok = 1, opt, n;

	while ((opt = getopt(argc, argv, "mH")) != -1) {
		if (opt == 'm')
			style = JWT_STYLE_MI;
		else if (opt == 'H')
			header = 1;
		else
			return usage();
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || argc > 3)
		return usage();
	if (argc > 1)
		lifetime = number(argv[1], &ok);
	if (argc > 2)
		now = number(argv[2], &ok);
	if (!ok || sodium_init() < 0)
		return usage();
	jwt_split_secret(argv[0], &kid, &kidlen, &key, &keylen);
	if (kidlen == 0 || kidlen >= sizeof(kidz)) {
		fprintf(stderr, "icp-token: '%s' is not KEYID.BASE64\n",
				argv[0]);
		return 2;
	}
	memcpy(kidz, kid, kidlen);
	kidz[kidlen] = '\0';
	n = jwt_sign(style, kidz, key, keylen, now, lifetime, out,
			sizeof(out));
	if (n < 0) {
		fprintf(stderr, "icp-token: %s\n", n == -EINVAL ?
				"the key material is shorter than 32 bytes" :
				strerror(-n));
		return 1;
	}
	printf("%s%s\n", header ? "Authorization: Bearer " : "", out);
	return 0;
}
