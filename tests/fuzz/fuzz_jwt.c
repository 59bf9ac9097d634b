/*
 * fuzz_jwt.c - ICP's runtime tokens (model/jwt.c) on any bytes.  The
 * first byte chooses what the rest is:
 *   0  a token, checked as it comes;
 *   1  a payload, signed under the key with a good header, so that the
 *      claims are reached past the signature;
 *   2  a header, signed with a good payload;
 *   3  an Authorization header's value.
 * What must hold: a token is taken (0) or refused (-EACCES, with a
 * reason), nothing else; one taken names the kid jwt_peek_kid() names,
 * is not expired nor early beyond the skew, and is the only spelling of
 * its header and payload (decoding and signing them again gives it back,
 * byte for byte); a bearer token found is a non-empty b64token inside
 * the header.
 */
#include "fuzz.h"

#include <sodium.h>

#include "../../model/jwt.h"
#include "../../store/errmsg.h"

#define KEY "kSoThlMsWVL6GO8uG3ZC8WPdppTmS3RNYt9SlSSHRdY="
#define NOW 1700000100LL

static char tok[4 * JWT_TOKEN_MAX + 256];

/* The token given the same bytes again from its decoded parts. */
static void check_canonical(const char *t, size_t len)
{
	const char *dot1 = memchr(t, '.', len), *dot2;
	char *json[2], *again = malloc(len + 1);
	size_t n;
	int ret;

	CHECK(dot1 && again);
	dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - t));
	CHECK(dot2);
	for (int i = 0; i < 2; i++) {
		const char *s = i ? dot1 + 1 : t, *e = i ? dot2 : dot1;

		json[i] = malloc(len);
		CHECK(json[i]);
		CHECK(sodium_base642bin((unsigned char *)json[i], len, s,
				(size_t)(e - s), NULL, &n, NULL,
				sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0);
		json[i][n] = '\0';
		CHECK(strlen(json[i]) == n);
	}
	ret = jwt_sign_raw(json[0], json[1], KEY, strlen(KEY), again,
			len + 1);
	CHECK(ret == (int)len && memcmp(again, t, len) == 0);
	free(json[0]);
	free(json[1]);
	free(again);
}

static void check_token(const char *t, size_t len)
{
	struct jwt_claims c;
	char kid[JWT_KID_MAX];
	int ret, peek;

	errmsg_clear();
	ret = jwt_verify(t, len, KEY, strlen(KEY), NOW, &c);
	CHECK(ret == 0 || ret == -EACCES);
	CHECK(ret == 0 || *errmsg() != '\0');
	peek = jwt_peek_kid(t, len, kid, sizeof(kid));
	CHECK(peek == 0 || peek == -EACCES);
	if (ret != 0)
		return;
	CHECK(len <= JWT_TOKEN_MAX);
	CHECK(peek == 0 && strcmp(kid, c.kid) == 0);
	for (const char *k = kid; *k; k++)
		CHECK(*k > 0x20 && *k < 0x7f);
	CHECK(strcmp(c.iss, JWT_ISSUER) == 0);
	CHECK(c.exp + JWT_SKEW_S >= NOW);
	CHECK(!c.has_nbf || c.nbf - JWT_SKEW_S <= NOW);
	check_canonical(t, len);
}

static void check_authorization(const char *header)
{
	const char *t = NULL;
	size_t n = 0;

	errmsg_clear();
	if (jwt_from_authorization(header, &t, &n) != 0) {
		CHECK(*errmsg() != '\0');
		return;
	}
	CHECK(n > 0 && t >= header && t + n <= header + strlen(header));
	for (size_t i = 0; i < n; i++)
		CHECK(t[i] && strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
				"opqrstuvwxyz0123456789-._~+/=", t[i]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char header[] = "{\"alg\":\"HS256\","
		" \"typ\":\"JWT\", \"kid\":\"fe1e214d\"}";
	static const char payload[] = "{\"exp\":1700003600,"
		" \"iat\":1700000000, \"nbf\":1700000000,"
		" \"iss\":\"icp-runtime-jwt-issuer\", \"aud\":\"icp-server\","
		" \"scope\":\"runtime_agent\"}";
	char *rest;
	int n;

	if (size == 0)
		return 0;
	rest = fuzz_string(data + 1, size - 1);
	switch (data[0] % 4) {
	case 0:
		check_token((const char *)data + 1, size - 1);
		break;
	case 1:
	case 2:
		n = jwt_sign_raw(data[0] % 4 == 1 ? header : rest,
				data[0] % 4 == 1 ? rest : payload, KEY,
				strlen(KEY), tok, sizeof(tok));
		CHECK(n > 0);
		check_token(tok, (size_t)n);
		break;
	default:
		check_authorization(rest);
		break;
	}
	free(rest);
	return 0;
}
