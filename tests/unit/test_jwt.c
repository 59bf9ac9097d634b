/*
 * test_jwt.c - model/jwt.c: tokens as the two WSO2 clients make them
 * verify, byte for byte against vectors computed apart; every claim ICP
 * checks refuses with -EACCES and says why; malformed, truncated and
 * oversized tokens are refused whatever their bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "../../model/jwt.h"
#include "../../store/errmsg.h"

/* The secret of README.md's session. */
#define KID "fe1e214d"
#define KEY "kSoThlMsWVL6GO8uG3ZC8WPdppTmS3RNYt9SlSSHRdY="
#define SECRET KID "." KEY
#define IAT 1700000000LL
#define EXP (IAT + JWT_LIFETIME_S)

/*
 * Known answers, computed apart with python3's hmac and base64 (not with
 * this code) when this test was written:
 *
 *   import base64, hashlib, hmac
 *   def b64u(b): return base64.urlsafe_b64encode(b).rstrip(b'=').decode()
 *   key = b"kSoThlMsWVL6GO8uG3ZC8WPdppTmS3RNYt9SlSSHRdY="
 *   def tok(h, p):
 *       si = b64u(h.encode()) + "." + b64u(p.encode())
 *       return si + "." + b64u(hmac.new(key, si.encode(),
 *                                        hashlib.sha256).digest())
 *   tok('{"alg":"HS256", "typ":"JWT", "kid":"fe1e214d"}',
 *       '{"exp":1700003600, "iat":1700000000, "nbf":1700000000, '
 *       '"iss":"icp-runtime-jwt-issuer", "aud":"icp-server", '
 *       '"scope":"runtime_agent"}')                           # BI_TOKEN
 *   tok('{"kid":"fe1e214d","alg":"HS256"}',
 *       '{"iss":"icp-runtime-jwt-issuer","aud":"icp-server",'
 *       '"exp":1700003600,"iat":1700000000,"scope":"runtime_agent"}')
 *                                                              # MI_TOKEN
 *
 * The key is the base64 text itself, as both clients sign with it.
 */
#define BI_TOKEN "eyJhbGciOiJIUzI1NiIsICJ0eXAiOiJKV1QiLCAia2lkIjoiZmUxZTIxN" \
	"GQifQ.eyJleHAiOjE3MDAwMDM2MDAsICJpYXQiOjE3MDAwMDAwMDAsICJuYmYiOjE3M" \
	"DAwMDAwMDAsICJpc3MiOiJpY3AtcnVudGltZS1qd3QtaXNzdWVyIiwgImF1ZCI6Imlj" \
	"cC1zZXJ2ZXIiLCAic2NvcGUiOiJydW50aW1lX2FnZW50In0.FPU_SGHHquGWIGXrgDp" \
	"PYCasgtH_3mcvYcoGBStzY10"
#define MI_TOKEN "eyJraWQiOiJmZTFlMjE0ZCIsImFsZyI6IkhTMjU2In0.eyJpc3MiOiJpY" \
	"3AtcnVudGltZS1qd3QtaXNzdWVyIiwiYXVkIjoiaWNwLXNlcnZlciIsImV4cCI6MTcw" \
	"MDAwMzYwMCwiaWF0IjoxNzAwMDAwMDAwLCJzY29wZSI6InJ1bnRpbWVfYWdlbnQifQ." \
	"31Dwn5a9uD7MAh7zkap7vRPYKZp_Z6sApQ2WcHsP5Xs"

#define HEADER "{\"alg\":\"HS256\",\"kid\":\"" KID "\"}"
#define CLAIMS(rest) "{\"iss\":\"icp-runtime-jwt-issuer\"," \
	"\"aud\":\"icp-server\",\"scope\":\"runtime_agent\"" rest "}"

static char tok[JWT_TOKEN_MAX * 2];

static int verify_at(const char *t, int64_t now, struct jwt_claims *c)
{
	errmsg_clear();
	return jwt_verify(t, strlen(t), KEY, strlen(KEY), now, c);
}

static int verify(const char *t)
{
	return verify_at(t, IAT + 100, NULL);
}

/* A token of this header and payload, signed with KEY. */
static const char *make(const char *header, const char *payload)
{
	assert_true(jwt_sign_raw(header, payload, KEY, strlen(KEY), tok,
			sizeof(tok)) > 0);
	return tok;
}

/* Refused with -EACCES, saying `why`. */
static void refused(int ret, const char *why)
{
	if (ret != -EACCES)
		fail_msg("%d, not -EACCES (%s)", ret, errmsg());
	if (!strstr(errmsg(), why))
		fail_msg("'%s' does not say '%s'", errmsg(), why);
}

static void test_known_answers(void **unused)
{
	char out[1024];
	struct jwt_claims c;

	(void)unused;
	/* jwt_sign makes the clients' bytes exactly */
	assert_int_equal(jwt_sign(JWT_STYLE_BI, KID, KEY, strlen(KEY), IAT,
			JWT_LIFETIME_S, out, sizeof(out)), strlen(BI_TOKEN));
	assert_string_equal(out, BI_TOKEN);
	assert_int_equal(jwt_sign(JWT_STYLE_MI, KID, KEY, strlen(KEY), IAT,
			JWT_LIFETIME_S, out, sizeof(out)), strlen(MI_TOKEN));
	assert_string_equal(out, MI_TOKEN);

	assert_int_equal(verify_at(BI_TOKEN, IAT + 100, &c), 0);
	assert_string_equal(c.kid, KID);
	assert_string_equal(c.iss, JWT_ISSUER);
	assert_int_equal(c.exp, EXP);
	assert_true(c.has_iat && c.iat == IAT);
	assert_true(c.has_nbf && c.nbf == IAT);
	assert_false(c.has_sub);
	assert_string_equal(c.sub, "");

	assert_int_equal(verify_at(MI_TOKEN, IAT + 100, &c), 0);
	assert_string_equal(c.kid, KID);
	assert_int_equal(c.exp, EXP);
	assert_true(c.has_iat && c.iat == IAT);
	assert_false(c.has_nbf);
}

/* The secret string split as the clients split it, and signed with what
 * they sign with: the material as text, not the bytes it encodes. */
static void test_clients_recipe(void **unused)
{
	static const unsigned char raw[32] = { 0x91, 0x2a, 0x13, 0x86, 0x53,
		0x2c, 0x59, 0x52, 0xfa, 0x18, 0xef, 0x2e, 0x1b, 0x76, 0x42,
		0xf1, 0x63, 0xdd, 0xa6, 0x94, 0xe6, 0x4b, 0x74, 0x4d, 0x62,
		0xdf, 0x52, 0x95, 0x24, 0x87, 0x45, 0xd6 };
	const char *kid, *key;
	size_t kidlen, keylen;
	char kidz[JWT_KID_MAX], text[64], out[1024];

	(void)unused;
	jwt_split_secret(SECRET, &kid, &kidlen, &key, &keylen);
	assert_int_equal(kidlen, 8);
	assert_memory_equal(kid, KID, 8);
	assert_string_equal(key, KEY);
	assert_int_equal(keylen, 44);
	/* the server holds the raw bytes: their base64 is the key */
	assert_int_equal(jwt_key_text(raw, sizeof(raw), text, sizeof(text)),
			44);
	assert_string_equal(text, KEY);
	assert_int_equal(jwt_key_text(raw, sizeof(raw), text, 44), -ENOSPC);

	memcpy(kidz, kid, kidlen);
	kidz[kidlen] = '\0';
	assert_true(jwt_sign(JWT_STYLE_BI, kidz, key, keylen, IAT,
			JWT_LIFETIME_S, out, sizeof(out)) > 0);
	assert_string_equal(out, BI_TOKEN);
	/* the 32 decoded bytes are not the key */
	errmsg_clear();
	refused(jwt_verify(out, strlen(out), raw, sizeof(raw), IAT, NULL),
			"signature does not match key " KID);

	/* no dot, a leading or a trailing one: no kid, all of it is key */
	jwt_split_secret("abc", &kid, &kidlen, &key, &keylen);
	assert_true(kidlen == 0 && keylen == 3 && !strcmp(key, "abc"));
	jwt_split_secret(".abc", &kid, &kidlen, &key, &keylen);
	assert_true(kidlen == 0 && !strcmp(key, ".abc"));
	jwt_split_secret("abc.", &kid, &kidlen, &key, &keylen);
	assert_true(kidlen == 0 && !strcmp(key, "abc."));
	/* the first dot splits */
	jwt_split_secret("a.b.c", &kid, &kidlen, &key, &keylen);
	assert_true(kidlen == 1 && !strcmp(key, "b.c"));
}

static void test_peek_kid(void **unused)
{
	static const struct {
		const char *header, *payload, *why;
	} bad[] = {
		{ "{\"alg\":\"HS256\"}", CLAIMS(""), "header has no kid" },
		{ "{\"alg\":\"HS256\",\"kid\":\"a b\"}", CLAIMS(""),
			"kid is not printable ASCII" },
		{ "{\"alg\":\"HS256\",\"kid\":\"a\\nb\"}", CLAIMS(""),
			"kid is not printable ASCII" },
		{ "{\"alg\":\"HS256\",\"kid\":8}", CLAIMS(""),
			"kid is not printable ASCII" },
		{ "{\"alg\":\"none\",\"kid\":\"" KID "\"}", CLAIMS(""),
			"alg 'none' is refused" },
		{ HEADER, "[1]", "payload is not a JSON object" },
	};
	char kid[JWT_KID_MAX];

	(void)unused;
	assert_int_equal(jwt_peek_kid(BI_TOKEN, strlen(BI_TOKEN), kid,
			sizeof(kid)), 0);
	assert_string_equal(kid, KID);
	/* no signature check: another key's token still names its kid */
	assert_int_equal(jwt_peek_kid(MI_TOKEN, strlen(MI_TOKEN) - 3, kid,
			sizeof(kid)), 0);
	assert_string_equal(kid, KID);
	refused(jwt_peek_kid(BI_TOKEN, strlen(BI_TOKEN), kid, 8),
			"kid is longer than 7 bytes");
	assert_string_equal(kid, "");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		make(bad[i].header, bad[i].payload);
		refused(jwt_peek_kid(tok, strlen(tok), kid, sizeof(kid)),
				bad[i].why);
	}
}

static void test_authorization(void **unused)
{
	static const char *const good[] = { "Bearer abc.def.ghi",
		"bearer abc.def.ghi", "BEARER  abc.def.ghi  ",
		"\tBeArEr\tabc.def.ghi\t", "Bearer a-_~+/.b.c==" };
	static const char *const bad[] = { "Basic abc", "Bearer", "Bearer ",
		"Bearer   ", "Bearerabc", "Bearer abc def", "Bearer abc,def",
		"Bearer =abc", "Bearer abc=d", "", "Bearer a\"b" };
	const char *t;
	size_t n;

	(void)unused;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(jwt_from_authorization(good[i], &t, &n), 0);
		assert_true(n > 0 && t + n <= good[i] + strlen(good[i]));
		assert_true(t[0] == 'a');
	}
	assert_int_equal(jwt_from_authorization("Bearer abc.def.ghi", &t, &n),
			0);
	assert_int_equal(n, 11);
	assert_memory_equal(t, "abc.def.ghi", 11);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errmsg_clear();
		if (jwt_from_authorization(bad[i], &t, &n) != -EACCES)
			fail_msg("'%s' taken", bad[i]);
		assert_true(*errmsg() != '\0');
	}
	refused(jwt_from_authorization(NULL, &t, &n),
			"no Authorization header");
}

/* exp and nbf, each side of ICP's 10 s skew. */
static void test_times(void **unused)
{
	(void)unused;
	assert_int_equal(verify_at(BI_TOKEN, EXP, NULL), 0);
	/* expired, within the skew: taken */
	assert_int_equal(verify_at(BI_TOKEN, EXP + JWT_SKEW_S, NULL), 0);
	/* expired beyond it */
	refused(verify_at(BI_TOKEN, EXP + JWT_SKEW_S + 1, NULL),
			"it expired at 1700003600");
	refused(verify_at(MI_TOKEN, EXP + 3600, NULL), "expired");
	/* nbf: a clock up to 10 s behind is taken, more is not */
	assert_int_equal(verify_at(BI_TOKEN, IAT - JWT_SKEW_S, NULL), 0);
	refused(verify_at(BI_TOKEN, IAT - JWT_SKEW_S - 1, NULL),
			"not valid before 1700000000");
	/* MI sends no nbf: only exp bounds it */
	assert_int_equal(verify_at(MI_TOKEN, IAT - 100000, NULL), 0);
	/* the far past and future do not wrap */
	make(HEADER, CLAIMS(",\"exp\":-9007199254740992"));
	refused(verify_at(tok, INT64_MAX, NULL), "expired");
	make(HEADER, CLAIMS(",\"exp\":9007199254740992,"
			"\"nbf\":9007199254740992"));
	refused(verify_at(tok, INT64_MIN, NULL), "not valid before");
}

/* A payload under HEADER, and what verifying it at IAT + 100 says: NULL
 * when it is taken. */
struct claims_case {
	const char *payload, *why;
};

#define ISS "\"iss\":\"icp-runtime-jwt-issuer\","
#define AUD "\"aud\":\"icp-server\","
#define EXP_ "\"exp\":1700003600,"
#define SCOPE "\"scope\":\"runtime_agent\""

static void test_claims(void **unused)
{
	static const struct claims_case cases[] = {
		/* aud: a string, or an array holding it among others */
		{ "{" ISS "\"aud\":[\"x\",7,\"icp-server\"]," EXP_ SCOPE "}",
			NULL },
		{ "{" ISS "\"aud\":[\"x\"]," EXP_ SCOPE "}",
			"aud does not hold icp-server" },
		{ "{" ISS "\"aud\":[]," EXP_ SCOPE "}",
			"aud does not hold icp-server" },
		{ "{" ISS "\"aud\":\"icp\"," EXP_ SCOPE "}",
			"aud 'icp' is not icp-server" },
		{ "{" ISS EXP_ SCOPE "}", "it has no aud" },
		{ "{" ISS "\"aud\":{}," EXP_ SCOPE "}",
			"aud is neither a string nor an array" },
		/* iss */
		{ "{\"iss\":\"icp-jwt-issuer\"," AUD EXP_ SCOPE "}",
			"iss 'icp-jwt-issuer' is not icp-runtime-jwt-issuer" },
		{ "{" AUD EXP_ SCOPE "}", "it has no iss" },
		{ "{\"iss\":[\"icp-runtime-jwt-issuer\"]," AUD EXP_ SCOPE "}",
			"it has no iss string" },
		/* a NUL cannot shorten a claim to the right one; an escaped
		 * backslash before u0000 is no \u0000 */
		{ "{\"iss\":\"icp-runtime-jwt-issuer\\u0000x\"," AUD EXP_
			SCOPE "}", "payload holds \\u0000" },
		{ "{" ISS AUD EXP_ SCOPE ",\"x\":\"\\\\u0000\"}", NULL },
		/* scope: the exact string */
		{ "{" ISS AUD "\"exp\":1700003600}",
			"it has no scope: 'runtime_agent' is required" },
		{ "{" ISS AUD EXP_ SCOPE ",\"scope\":\"admin\"}",
			"has 'scope' twice" },
		{ "{" ISS AUD EXP_ "\"scope\":\"admin\"}",
			"its scope is not 'runtime_agent'" },
		{ "{" ISS AUD EXP_ "\"scope\":\"runtime_agent admin\"}",
			"its scope is not 'runtime_agent'" },
		{ "{" ISS AUD EXP_ "\"scope\":[\"runtime_agent\"]}",
			"its scope is not 'runtime_agent'" },
		/* exp and nbf must be integers; iat is not checked, as ICP
		 * does not */
		{ "{" ISS AUD SCOPE "}", "it has no exp" },
		{ "{" ISS AUD SCOPE ",\"exp\":1700003600.5}",
			"exp is not an integer" },
		{ "{" ISS AUD SCOPE ",\"exp\":\"1700003600\"}",
			"exp is not an integer" },
		{ "{" ISS AUD SCOPE ",\"exp\":1e300}",
			"exp is not an integer" },
		{ "{" ISS AUD EXP_ SCOPE ",\"nbf\":null}",
			"nbf is not an integer" },
		{ "{" ISS AUD EXP_ SCOPE ",\"iat\":1800000000}", NULL },
		{ "{" ISS AUD EXP_ SCOPE ",\"iat\":\"soon\"}", NULL },
	};
	struct jwt_claims c;

	(void)unused;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		make(HEADER, cases[i].payload);
		if (!cases[i].why && verify(tok) != 0)
			fail_msg("%s: refused (%s)", cases[i].payload,
					errmsg());
		if (cases[i].why)
			refused(verify(tok), cases[i].why);
	}
	make(HEADER, "{" ISS AUD EXP_ SCOPE ",\"sub\":\"me\"}");
	assert_int_equal(verify_at(tok, IAT, &c), 0);
	assert_true(c.has_sub);
	assert_string_equal(c.sub, "me");
	assert_false(c.has_iat);
}

static void test_signature(void **unused)
{
	char t[1024];
	size_t n = strlen(BI_TOKEN), dot = strrchr(BI_TOKEN, '.') - BI_TOKEN;
	static const char other[] =
		"Lk2tLqvcYyaW1vVn5bkGdwfwZpeu6GgLjcgkCWPCdz0=";

	(void)unused;
	/* a changed byte of the signature */
	strcpy(t, BI_TOKEN);
	t[dot + 5] = t[dot + 5] == 'A' ? 'B' : 'A';
	refused(verify(t), "signature does not match key " KID);
	/* another key */
	errmsg_clear();
	refused(jwt_verify(BI_TOKEN, n, other, strlen(other), IAT, NULL),
			"signature does not match");
	/* a changed claim under the old signature */
	make(HEADER, CLAIMS(",\"exp\":1800000000"));
	strcpy(t, tok);
	make(HEADER, CLAIMS(",\"exp\":1700003600"));
	memcpy(strrchr(t, '.'), strrchr(tok, '.'), strlen(strrchr(tok, '.'))
			+ 1);
	refused(verify(t), "signature does not match");
	/* a signature cut short, or made longer */
	strcpy(t, BI_TOKEN);
	t[n - 3] = '\0';
	refused(verify(t), "signature is 30 bytes, not 32");
	snprintf(t, sizeof(t), "%sA", BI_TOKEN);
	refused(verify(t), "signature is 33 bytes, not 32");
	snprintf(t, sizeof(t), "%s%s", BI_TOKEN, BI_TOKEN + dot + 1);
	refused(verify(t), "signature is not 32 bytes");
	/* no signature */
	memcpy(t, BI_TOKEN, dot + 1);
	t[dot + 1] = '\0';
	refused(verify(t), "signature is 0 bytes, not 32");

	/* the key must be one a client could have */
	errmsg_clear();
	assert_int_equal(jwt_verify(BI_TOKEN, n, KEY, 31, IAT, NULL), -EINVAL);
	assert_int_equal(jwt_verify(BI_TOKEN, n, NULL, 44, IAT, NULL),
			-EINVAL);
}

static void test_alg(void **unused)
{
	static const char *const algs[] = { "HS384", "HS512", "RS256",
		"ES256", "hs256", "HS256 ", "" };

	(void)unused;
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		char h[128], why[128];

		snprintf(h, sizeof(h), "{\"alg\":\"%s\",\"kid\":\"" KID "\"}",
				algs[i]);
		make(h, CLAIMS(",\"exp\":1700003600"));
		snprintf(why, sizeof(why), "alg '%s' is refused", algs[i]);
		refused(verify(tok), why);
	}
	/* none, with and without a signature */
	make("{\"alg\":\"none\",\"kid\":\"" KID "\"}",
			CLAIMS(",\"exp\":1700003600"));
	refused(verify(tok), "alg 'none' is refused");
	*(strrchr(tok, '.') + 1) = '\0';
	refused(verify(tok), "alg 'none' is refused");
	make("{\"kid\":\"" KID "\"}", CLAIMS(",\"exp\":1700003600"));
	refused(verify(tok), "header has no alg");
	make("{\"alg\":256,\"kid\":\"" KID "\"}",
			CLAIMS(",\"exp\":1700003600"));
	refused(verify(tok), "header has no alg");
	make("{\"alg\":\"HS256\",\"alg\":\"none\",\"kid\":\"" KID "\"}",
			CLAIMS(",\"exp\":1700003600"));
	refused(verify(tok), "header has 'alg' twice");
	/* typ is not checked, as ICP does not */
	make("{\"alg\":\"HS256\",\"typ\":\"xyz\",\"kid\":\"" KID "\"}",
			CLAIMS(",\"exp\":1700003600"));
	assert_int_equal(verify(tok), 0);
}

static void test_malformed(void **unused)
{
	char t[1024];
	size_t dot1 = strchr(BI_TOKEN, '.') - BI_TOKEN;

	(void)unused;
	refused(verify(""), "there is none");
	refused(verify("abc"), "not three parts");
	refused(verify("abc.def"), "not three parts");
	refused(verify("a.b.c.d"), "more than three parts");
	refused(verify(".abc.def"), "its header is empty");
	refused(verify("abc..def"), "its payload is empty");
	/* not base64url: a character of another alphabet, padding */
	strcpy(t, BI_TOKEN);
	t[dot1 + 4] = '*';
	refused(verify(t), "its payload is not base64url without padding");
	strcpy(t, BI_TOKEN);
	t[dot1 + 4] = '+';
	refused(verify(t), "its payload is not base64url");
	/* a byte libsodium 1.0.18 would read as '_' (found by fuzz_jwt) */
	strcpy(t, MI_TOKEN);
	*strchr(strrchr(t, '.'), '_') = (char)0xdf;
	refused(verify(t), "its signature is not base64url");
	strcpy(t, BI_TOKEN);
	t[3] = (char)('J' | 0x80);
	refused(verify(t), "its header is not base64url");
	snprintf(t, sizeof(t), "%.*s==.%s", (int)dot1, BI_TOKEN,
			BI_TOKEN + dot1 + 1);
	refused(verify(t), "its header is not base64url without padding"
			" (it is padded)");
	/* a length no base64 has, and stray bits in the last character */
	refused(verify("eyJhb.e30.AAAA"), "its header is not base64url");
	refused(verify("e31.e30.AAAA"), "its header is not base64url");
	/* decoded, but not one JSON object */
	make("{\"alg\":\"HS256\"", CLAIMS(""));
	refused(verify(tok), "its header is not a JSON object");
	make("\"HS256\"", CLAIMS(""));
	refused(verify(tok), "its header is not a JSON object");
	make(HEADER, "{} {}");
	refused(verify(tok), "its payload has bytes after the JSON object");
	make(HEADER, CLAIMS(",\"exp\":1700003600") "\n ");
	assert_int_equal(verify(tok), 0);
	/* a raw NUL: the header's own NUL terminator, encoded */
	{
		static const char h[] = HEADER;
		char enc[128];

		sodium_bin2base64(enc, sizeof(enc), (const unsigned char *)h,
				sizeof(h),
				sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		snprintf(t, sizeof(t), "%s.e30.AAAA", enc);
		refused(verify(t), "its header holds a NUL byte");
	}
}

/* Every prefix of a good token, and one byte less or more anywhere that
 * is not blank, is refused with -EACCES and a reason. */
static void test_truncated(void **unused)
{
	size_t n = strlen(BI_TOKEN);
	char t[1024];

	(void)unused;
	for (size_t i = 0; i < n; i++) {
		memcpy(t, BI_TOKEN, i);
		t[i] = '\0';
		errmsg_clear();
		if (jwt_verify(t, i, KEY, strlen(KEY), IAT, NULL) != -EACCES)
			fail_msg("prefix of %zu bytes: not -EACCES", i);
		assert_true(*errmsg() != '\0');
		/* the length given is what is read: bytes past it do not
		 * count */
		if (jwt_verify(BI_TOKEN, i, KEY, strlen(KEY), IAT, NULL) !=
				-EACCES)
			fail_msg("first %zu bytes: not -EACCES", i);
	}
	for (size_t i = 0; i < n; i++) {
		memcpy(t, BI_TOKEN, i);
		memcpy(t + i, BI_TOKEN + i + 1, n - i);
		if (verify(t) != -EACCES)
			fail_msg("byte %zu removed: not -EACCES", i);
	}
}

static void test_huge(void **unused)
{
	size_t big = JWT_TOKEN_MAX + 1;
	char *t = malloc(big + 1), *payload = malloc(8000);

	(void)unused;
	assert_non_null(t);
	assert_non_null(payload);
	memset(t, 'A', big);
	t[big] = '\0';
	refused(verify(t), "it is 8193 bytes, more than 8192");
	/* a genuine, well-signed token, just too long */
	snprintf(payload, 8000, CLAIMS(",\"exp\":1700003600,"
			"\"pad\":\"%06000d\""), 0);
	make(HEADER, payload);
	assert_true(strlen(tok) > JWT_TOKEN_MAX);
	refused(verify(tok), "more than 8192");
	/* and one just under the limit is taken */
	snprintf(payload, 8000, CLAIMS(",\"exp\":1700003600,"
			"\"pad\":\"%05500d\""), 0);
	make(HEADER, payload);
	assert_true(strlen(tok) <= JWT_TOKEN_MAX);
	assert_int_equal(verify(tok), 0);
	/* deep nesting stays inside cJSON's limit, refused not crashed */
	{
		char deep[4200];

		memcpy(deep, "{\"a\":", 5);
		memset(deep + 5, '[', 4000);
		deep[4005] = '\0';
		make(HEADER, deep);
		refused(verify(tok), "its payload is not a JSON object");
	}
	free(payload);
	free(t);
}

/* jwt_sign's own failures. */
static void test_sign(void **unused)
{
	char out[512];

	(void)unused;
	assert_int_equal(jwt_sign(JWT_STYLE_BI, KID, KEY, strlen(KEY), IAT,
			60, out, 100), -ENOSPC);
	assert_int_equal(jwt_sign(JWT_STYLE_BI, NULL, KEY, strlen(KEY), IAT,
			60, out, sizeof(out)), -EINVAL);
	assert_int_equal(jwt_sign(JWT_STYLE_BI, KID, KEY, 10, IAT, 60, out,
			sizeof(out)), -EINVAL);
	/* a kid needing escapes is escaped, and comes back as it was */
	assert_true(jwt_sign(JWT_STYLE_MI, "a\"b\\c", KEY, strlen(KEY), IAT,
			60, out, sizeof(out)) > 0);
	{
		char kid[JWT_KID_MAX];

		assert_int_equal(jwt_peek_kid(out, strlen(out), kid,
				sizeof(kid)), 0);
		assert_string_equal(kid, "a\"b\\c");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answers),
		cmocka_unit_test(test_clients_recipe),
		cmocka_unit_test(test_peek_kid),
		cmocka_unit_test(test_authorization),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_claims),
		cmocka_unit_test(test_signature),
		cmocka_unit_test(test_alg),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_huge),
		cmocka_unit_test(test_sign),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
