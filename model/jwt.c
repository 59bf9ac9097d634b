/*
 * jwt.c - ICP's runtime tokens: HS256 JWTs checked as WSO2 ICP 2.x checks
 * them and made as its runtimes make them (jwt.h).
 *
 * A token is parsed strictly: three base64url parts without padding (the
 * last may be empty, so that alg "none" is refused for what it is), each
 * decoded canonically by libsodium; header and payload one JSON object
 * each, nothing after it, no NUL byte or \u0000, no member twice (a
 * parser that kept the other one would read another token).  The
 * signature is checked before any claim, and compared in constant time.
 */
#include "jwt.h"
#include "../store/errmsg.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cjson/cJSON.h>
#include <sodium.h>

#define SIG_BYTES crypto_auth_hmacsha256_BYTES

/* A token cut at its dots. */
struct parts {
	const char *seg[3];
	size_t len[3];
};

/* A parsed token: its parts, header and payload. */
struct token {
	struct parts p;
	cJSON *header, *payload;
};

/* At most 64 bytes of a string the token chose, unprintable ones as
 * '?', fit for a message and a log line. */
struct shown {
	char s[68];
};

static struct shown show(const char *s)
{
	struct shown out;
	size_t n = 0;

	for (; *s && n < 64; s++)
		out.s[n++] = *s >= 0x20 && *s < 0x7f ? *s : '?';
	if (*s)
		for (int i = 0; i < 3; i++)
			out.s[n++] = '.';
	out.s[n] = '\0';
	return out;
}

static int refuse(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static int refuse(const char *fmt, ...)
{
	char why[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return errmsg_set(-EACCES, "token: %s", why);
}

static int split(const char *tok, size_t len, struct parts *p)
{
	size_t start = 0, n = 0;

	if (!tok || len == 0)
		return refuse("there is none");
	if (len > JWT_TOKEN_MAX)
		return refuse("it is %zu bytes, more than %d", len,
				JWT_TOKEN_MAX);
	for (size_t i = 0; i <= len; i++) {
		if (i < len && tok[i] != '.')
			continue;
		if (n == 3)
			return refuse("it has more than three parts");
		p->seg[n] = tok + start;
		p->len[n++] = i - start;
		start = i + 1;
	}
	if (n != 3)
		return refuse("it is not three parts separated by dots");
	if (p->len[0] == 0 || p->len[1] == 0)
		return refuse("its %s is empty", p->len[0] ? "payload" :
				"header");
	return 0;
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	"abcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url without padding, canonical, into `out` of `cap` bytes.  The
 * alphabet is checked here: libsodium 1.0.18 takes some bytes with the
 * high bit set for base64url characters (0xdf for '_'), so that other
 * bytes would spell the same token; it does refuse stray bits. */
static int unbase64(const char *in, size_t len, unsigned char *out,
		size_t cap, size_t *n, const char *what)
{
	const char *end = NULL;

	for (size_t i = 0; i < len; i++)
		if (!memchr(b64url, in[i], sizeof(b64url) - 1))
			return refuse("its %s is not base64url without"
					" padding%s", what, in[i] == '=' ?
					" (it is padded)" : "");
	if (sodium_base642bin(out, cap, in, len, NULL, n, &end,
			sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
			end != in + len)
		return refuse("its %s is not base64url without padding",
				what);
	return 0;
}

/* Nothing that C strings would cut short: no NUL byte, no \u0000. */
static int no_nul(const unsigned char *s, size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\0')
			return refuse("its %s holds a NUL byte", what);
		if (s[i] != '\\' || i + 1 >= n)
			continue;
		if (s[i + 1] == 'u' && i + 5 < n &&
				memcmp(s + i + 2, "0000", 4) == 0)
			return refuse("its %s holds \\u0000", what);
		i++;	/* the escaped character */
	}
	return 0;
}

/* One part as one JSON object, each member name once. */
static int json_part(const char *seg, size_t len, const char *what,
		cJSON **out)
{
	size_t cap = len / 4 * 3 + 3, n = 0;
	unsigned char *raw = malloc(cap + 1);
	const char *end = NULL;
	cJSON *o = NULL;
	int ret;

	*out = NULL;
	if (!raw)
		return errmsg_set(-ENOMEM, "token: out of memory");
	ret = unbase64(seg, len, raw, cap, &n, what);
	if (ret == 0)
		ret = no_nul(raw, n, what);
	if (ret != 0)
		goto out;
	raw[n] = '\0';
	o = cJSON_ParseWithLengthOpts((const char *)raw, n, &end, 0);
	if (!cJSON_IsObject(o)) {
		ret = refuse("its %s is not a JSON object", what);
		goto out;
	}
	while (end < (const char *)raw + n && strchr(" \t\r\n", *end))
		end++;
	if (end != (const char *)raw + n) {
		ret = refuse("its %s has bytes after the JSON object", what);
		goto out;
	}
	for (const cJSON *a = o->child; a; a = a->next)
		for (const cJSON *b = a->next; b; b = b->next)
			if (strcmp(a->string, b->string) == 0) {
				ret = refuse("its %s has '%s' twice", what,
						show(a->string).s);
				goto out;
			}
	*out = o;
	o = NULL;
out:
	cJSON_Delete(o);
	free(raw);
	return ret;
}

/* Printable ASCII, no blank: what a kid may be here. */
static int kid_ok(const char *s)
{
	for (; *s; s++)
		if (*s < 0x21 || *s > 0x7e)
			return 0;
	return 1;
}

/* The parts, header and payload; alg HS256 and a kid that fits `kidcap`
 * copied to `kid`. */
static int parse(const char *tok, size_t len, struct token *t, char *kid,
		size_t kidcap)
{
	const cJSON *alg, *k;
	int ret;

	memset(t, 0, sizeof(*t));
	ret = split(tok, len, &t->p);
	if (ret == 0)
		ret = json_part(t->p.seg[0], t->p.len[0], "header",
				&t->header);
	if (ret != 0)
		return ret;
	alg = cJSON_GetObjectItemCaseSensitive(t->header, "alg");
	if (!cJSON_IsString(alg))
		return refuse("its header has no alg");
	if (strcmp(alg->valuestring, "HS256") != 0)
		return refuse("alg '%s' is refused: only HS256 is taken",
				show(alg->valuestring).s);
	k = cJSON_GetObjectItemCaseSensitive(t->header, "kid");
	if (!k)
		return refuse("its header has no kid");
	if (!cJSON_IsString(k) || !kid_ok(k->valuestring))
		return refuse("its kid is not printable ASCII");
	if (strlen(k->valuestring) >= kidcap)
		return refuse("its kid is longer than %zu bytes", kidcap - 1);
	memcpy(kid, k->valuestring, strlen(k->valuestring) + 1);
	return json_part(t->p.seg[1], t->p.len[1], "payload", &t->payload);
}

static void token_free(struct token *t)
{
	cJSON_Delete(t->header);
	cJSON_Delete(t->payload);
}

int jwt_from_authorization(const char *header, const char **tok,
		size_t *len)
{
	static const char b64token[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"abcdefghijklmnopqrstuvwxyz0123456789-._~+/";
	const char *s = header, *e;
	size_t n;

	if (!header)
		return errmsg_set(-EACCES, "no Authorization header");
	while (*s == ' ' || *s == '\t')
		s++;
	if (strncasecmp(s, "Bearer", 6) != 0 || (s[6] != ' ' && s[6] != '\t'))
		return errmsg_set(-EACCES, "the Authorization header is not"
				" 'Bearer TOKEN'");
	for (s += 6; *s == ' ' || *s == '\t'; s++)
		;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	n = strspn(s, b64token);
	while (s + n < e && s[n] == '=')
		n++;
	if (n == 0 || s + n != e)
		return errmsg_set(-EACCES, "the Authorization header's token"
				" is %s", n == 0 ? "missing" :
				"not a b64token");
	*tok = s;
	*len = n;
	return 0;
}

int jwt_peek_kid(const char *token, size_t len, char *kid, size_t cap)
{
	struct token t;
	int ret;

	if (!kid || cap == 0)
		return errmsg_set(-EINVAL, "token: no room for the kid");
	kid[0] = '\0';
	ret = parse(token, len, &t, kid, cap);
	token_free(&t);
	if (ret != 0)
		kid[0] = '\0';
	return ret;
}

/* An integer claim: a JSON number with no fraction, within ±2^53;
 * -ENOENT when absent, -EINVAL when another value. */
static int int_claim(const cJSON *o, const char *name, int64_t *v)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, name);
	double d;

	if (!c)
		return -ENOENT;
	if (!cJSON_IsNumber(c))
		return -EINVAL;
	d = c->valuedouble;
	/* NaN fails both; inside the range the cast is defined */
	if (!(d >= -9007199254740992.0 && d <= 9007199254740992.0) ||
			(double)(int64_t)d != d)
		return -EINVAL;
	*v = (int64_t)d;
	return 0;
}

static int check_aud(const cJSON *aud)
{
	const cJSON *a;

	if (!aud)
		return refuse("it has no aud");
	if (cJSON_IsString(aud)) {
		if (strcmp(aud->valuestring, JWT_AUDIENCE) == 0)
			return 0;
		return refuse("aud '%s' is not %s", show(aud->valuestring).s,
				JWT_AUDIENCE);
	}
	if (!cJSON_IsArray(aud))
		return refuse("aud is neither a string nor an array");
	cJSON_ArrayForEach(a, aud)
		if (cJSON_IsString(a) && strcmp(a->valuestring,
				JWT_AUDIENCE) == 0)
			return 0;
	return refuse("aud does not hold %s", JWT_AUDIENCE);
}

/* The claims ICP checks, and the rest of `out`. */
static int check_claims(const cJSON *p, int64_t now, struct jwt_claims *c)
{
	const cJSON *iss = cJSON_GetObjectItemCaseSensitive(p, "iss");
	const cJSON *scope = cJSON_GetObjectItemCaseSensitive(p, "scope");
	const cJSON *sub = cJSON_GetObjectItemCaseSensitive(p, "sub");
	int ret;

	if (!cJSON_IsString(iss))
		return refuse("it has no iss%s", iss ? " string" : "");
	if (strcmp(iss->valuestring, JWT_ISSUER) != 0)
		return refuse("iss '%s' is not %s", show(iss->valuestring).s,
				JWT_ISSUER);
	memcpy(c->iss, JWT_ISSUER, sizeof(JWT_ISSUER));
	ret = check_aud(cJSON_GetObjectItemCaseSensitive(p, "aud"));
	if (ret != 0)
		return ret;
	ret = int_claim(p, "exp", &c->exp);
	if (ret == -ENOENT)
		return refuse("it has no exp");
	if (ret != 0)
		return refuse("exp is not an integer");
	if (c->exp + JWT_SKEW_S < now)
		return refuse("it expired at %lld; it is %lld (skew %d s)",
				(long long)c->exp, (long long)now, JWT_SKEW_S);
	ret = int_claim(p, "nbf", &c->nbf);
	if (ret == -EINVAL)
		return refuse("nbf is not an integer");
	c->has_nbf = ret == 0;
	if (c->has_nbf && c->nbf - JWT_SKEW_S > now)
		return refuse("it is not valid before %lld; it is %lld"
				" (skew %d s)", (long long)c->nbf,
				(long long)now, JWT_SKEW_S);
	/* iat is not checked, as ICP does not; kept when it is one */
	c->has_iat = int_claim(p, "iat", &c->iat) == 0;
	if (!c->has_iat)
		c->iat = 0;
	if (!scope)
		return refuse("it has no scope: '%s' is required", JWT_SCOPE);
	if (!cJSON_IsString(scope) || strcmp(scope->valuestring, JWT_SCOPE))
		return refuse("its scope is not '%s'", JWT_SCOPE);
	c->has_sub = cJSON_IsString(sub) &&
		strlen(sub->valuestring) < sizeof(c->sub);
	if (c->has_sub)
		memcpy(c->sub, sub->valuestring, strlen(sub->valuestring) + 1);
	return 0;
}

static void hmac(const void *key, size_t keylen, const char *data,
		size_t len, unsigned char mac[SIG_BYTES])
{
	crypto_auth_hmacsha256_state st;

	/* the one-shot crypto_auth_hmacsha256() wants a 32-byte key; the
	 * streaming one takes any, as HMAC does */
	crypto_auth_hmacsha256_init(&st, key, keylen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)data, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
}

int jwt_verify(const char *token, size_t len, const void *key,
		size_t keylen, int64_t now_s, struct jwt_claims *out)
{
	unsigned char sig[SIG_BYTES + 3], mac[SIG_BYTES];
	struct jwt_claims c;
	struct token t;
	size_t n = 0;
	int ret;

	if (!key || keylen < JWT_KEY_MIN)
		return errmsg_set(-EINVAL, "token: the key is %s",
				key ? "shorter than 32 bytes" : "missing");
	memset(&c, 0, sizeof(c));
	ret = parse(token, len, &t, c.kid, sizeof(c.kid));
	if (ret != 0)
		goto out;
	/* 43 characters for 32 bytes; a longer part cannot be one */
	if (t.p.len[2] > 44) {
		ret = refuse("its signature is not %d bytes", SIG_BYTES);
		goto out;
	}
	ret = unbase64(t.p.seg[2], t.p.len[2], sig, sizeof(sig), &n,
			"signature");
	if (ret != 0)
		goto out;
	if (n != SIG_BYTES) {
		ret = refuse("its signature is %zu bytes, not %d", n,
				SIG_BYTES);
		goto out;
	}
	hmac(key, keylen, token, t.p.len[0] + 1 + t.p.len[1], mac);
	if (sodium_memcmp(mac, sig, SIG_BYTES) != 0) {
		ret = refuse("its signature does not match key %s", c.kid);
		goto out;
	}
	ret = check_claims(t.payload, now_s, &c);
	if (ret == 0 && out)
		*out = c;
out:
	token_free(&t);
	sodium_memzero(mac, sizeof(mac));
	return ret;
}

/* `s` as a JSON string's contents into `out`, or -ENOSPC. */
static int json_escape(const char *s, char *out, size_t cap)
{
	size_t n = 0;

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		char esc[8];
		size_t k;

		if (ch == '"' || ch == '\\')
			k = (size_t)snprintf(esc, sizeof(esc), "\\%c", ch);
		else if (ch < 0x20)
			k = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", ch);
		else
			k = (size_t)snprintf(esc, sizeof(esc), "%c", ch);
		if (n + k >= cap)
			return -ENOSPC;
		memcpy(out + n, esc, k);
		n += k;
	}
	out[n] = '\0';
	return 0;
}

int jwt_sign_raw(const char *header_json, const char *payload_json,
		const void *key, size_t keylen, char *out, size_t cap)
{
	const char *json[2] = { header_json, payload_json };
	unsigned char mac[SIG_BYTES];
	size_t n = 0;

	if (!header_json || !payload_json || !key || !out)
		return -EINVAL;
	for (int i = 0; i < 3; i++) {
		const unsigned char *bin = i < 2 ?
			(const unsigned char *)json[i] : mac;
		size_t binlen = i < 2 ? strlen(json[i]) : SIG_BYTES;
		size_t need = sodium_base64_ENCODED_LEN(binlen,
				sodium_base64_VARIANT_URLSAFE_NO_PADDING);

		if (i == 2)
			hmac(key, keylen, out, n, mac);
		if (n + (i > 0) + need > cap)
			return -ENOSPC;
		if (i > 0)
			out[n++] = '.';
		sodium_bin2base64(out + n, need, bin, binlen,
				sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		n += strlen(out + n);
	}
	sodium_memzero(mac, sizeof(mac));
	return n > INT_MAX ? -ENOSPC : (int)n;
}

int jwt_sign(enum jwt_style style, const char *kid, const void *key,
		size_t keylen, int64_t iat, int64_t lifetime_s, char *out,
		size_t cap)
{
	char k[JWT_KID_MAX * 6], header[JWT_KID_MAX * 6 + 64], payload[256];
	long long i = (long long)iat, e = (long long)(iat + lifetime_s);

	if (!kid || !key || keylen < JWT_KEY_MIN ||
			json_escape(kid, k, sizeof(k)) != 0)
		return -EINVAL;
	if (style == JWT_STYLE_BI) {
		/* jwt_issuer.bal prepareHeader()/preparePayload(), printed
		 * by toJsonString() */
		snprintf(header, sizeof(header), "{\"alg\":\"HS256\","
				" \"typ\":\"JWT\", \"kid\":\"%s\"}", k);
		snprintf(payload, sizeof(payload), "{\"exp\":%lld,"
				" \"iat\":%lld, \"nbf\":%lld, \"iss\":\"%s\","
				" \"aud\":\"%s\", \"scope\":\"%s\"}", e, i, i,
				JWT_ISSUER, JWT_AUDIENCE, JWT_SCOPE);
	} else {
		/* HMACJWTTokenGenerator.generateToken() */
		snprintf(header, sizeof(header),
				"{\"kid\":\"%s\",\"alg\":\"HS256\"}", k);
		snprintf(payload, sizeof(payload), "{\"iss\":\"%s\","
				"\"aud\":\"%s\",\"exp\":%lld,\"iat\":%lld,"
				"\"scope\":\"%s\"}", JWT_ISSUER, JWT_AUDIENCE,
				e, i, JWT_SCOPE);
	}
	return jwt_sign_raw(header, payload, key, keylen, out, cap);
}

void jwt_split_secret(const char *secret, const char **kid, size_t *kidlen,
		const char **key, size_t *keylen)
{
	size_t len = strlen(secret);
	const char *dot = strchr(secret, '.');

	if (dot && dot > secret && dot < secret + len - 1) {
		*kid = secret;
		*kidlen = (size_t)(dot - secret);
		*key = dot + 1;
		*keylen = len - *kidlen - 1;
	} else {
		*kid = secret + len;
		*kidlen = 0;
		*key = secret;
		*keylen = len;
	}
}

int jwt_key_text(const unsigned char *raw, size_t rawlen, char *out,
		size_t cap)
{
	if (cap < sodium_base64_ENCODED_LEN(rawlen,
			sodium_base64_VARIANT_ORIGINAL))
		return -ENOSPC;
	sodium_bin2base64(out, cap, raw, rawlen,
			sodium_base64_VARIANT_ORIGINAL);
	return (int)strlen(out);
}
