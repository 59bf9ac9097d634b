/*
 * jwt.h - the bearer tokens WSO2 ICP 2.x runtimes sign their heartbeats
 * with, checked as ICP checks them, and made as the runtimes make them.
 *
 * A runtime holds a secret KEYID.MATERIAL (model/secret.c: 8 hex digits,
 * a dot, 32 random bytes in standard base64).  It sends
 * `Authorization: Bearer <JWT>`: HS256, header `kid` = KEYID, and the HMAC
 * key is MATERIAL *as text* (its 44 ASCII bytes, not the 32 bytes they
 * encode), which is what both clients and the server use.  Claims: `iss`
 * icp-runtime-jwt-issuer, `aud` icp-server (a string or an array holding
 * it), `exp`, `scope` runtime_agent, and `iat` (both clients), `nbf` (the
 * Ballerina bridge).  ICP allows 10 s of clock skew on `exp` and `nbf`.
 * README.md, "How runtimes authenticate", cites the WSO2 code matched.
 *
 * Pure C: libsodium for HMAC-SHA256 and base64url, cJSON for the JSON; no
 * model, no store.  Every refusal returns -EACCES with the reason in the
 * thread's error message (store/errmsg.h); -ENOMEM is memory, never an
 * authentication outcome, and -EINVAL is a caller's mistake (no key, a
 * key shorter than the clients allow), never the token's.
 */
#ifndef MODEL_JWT_H
#define MODEL_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JWT_ISSUER "icp-runtime-jwt-issuer"
#define JWT_AUDIENCE "icp-server"
#define JWT_SCOPE "runtime_agent"
/* ICP's jwtClockSkewSeconds (icp_server/config.bal) */
#define JWT_SKEW_S 10
/* the clients' default lifetime (jwtExpiryTimeSeconds, jwt_expiry_seconds) */
#define JWT_LIFETIME_S 3600
/* The longest token taken: both clients' are under 400 bytes. */
#define JWT_TOKEN_MAX 8192
/* The shortest HMAC key: both clients refuse key material under 32 bytes. */
#define JWT_KEY_MIN 32
/* A kid's room, its NUL included: ICP's are 8 hex digits. */
#define JWT_KID_MAX 64
#define JWT_SUB_MAX 128

/* What a verified token says. */
struct jwt_claims {
	char kid[JWT_KID_MAX];
	char iss[sizeof(JWT_ISSUER)];
	char sub[JWT_SUB_MAX];		/* "" unless has_sub */
	int64_t exp;
	int64_t iat;			/* 0 unless has_iat */
	int64_t nbf;			/* 0 unless has_nbf */
	bool has_sub, has_iat, has_nbf;
};

/* The token in an Authorization header's value: the scheme "Bearer" in
 * any case (RFC 6750; ICP itself wants exactly "Bearer "), one or more
 * spaces, a b64token, optional trailing blanks.  *tok points into
 * `header`.  0, or -EACCES (no header, another scheme, no token, a
 * character a b64token cannot hold). */
int jwt_from_authorization(const char *header, const char **tok,
		size_t *len);

/* The header's kid, NUL-terminated in `kid`, without checking the
 * signature, so that the caller can find the key: ICP's
 * extractKidFromJwt().  The token must be well formed as jwt_verify()
 * wants it (three base64url parts, a header and payload of one JSON
 * object each, alg HS256) and the kid printable ASCII that fits `cap`.
 * 0 or -EACCES (-ENOMEM). */
int jwt_peek_kid(const char *token, size_t len, char *kid, size_t cap);

/* The whole check, as ICP's validateRuntimeJwtWithSecret() makes it:
 * alg HS256 only (none and everything else refused), a kid, the HMAC of
 * the first two parts under `key` (constant-time compare), iss, aud,
 * exp + JWT_SKEW_S >= now_s, nbf - JWT_SKEW_S <= now_s when there is an
 * nbf, scope.  Unlike ICP, a token without exp is refused (no client
 * makes one; it would never expire).  Fills `out` (may be NULL) on
 * success.  0, -EACCES, -ENOMEM, or -EINVAL for a NULL key or one
 * shorter than JWT_KEY_MIN. */
int jwt_verify(const char *token, size_t len, const void *key,
		size_t keylen, int64_t now_s, struct jwt_claims *out);

/* The two clients, whose tokens differ in their JSON, not their meaning. */
enum jwt_style {
	/* wso2/icp-runtime-bridge (ballerina/jwt jwt:issue): header
	 * {"alg":"HS256", "typ":"JWT", "kid":K}, payload {"exp":..,
	 * "iat":.., "nbf":.., "iss":.., "aud":.., "scope":..}, written as
	 * Ballerina's toJsonString() does (", " between members) */
	JWT_STYLE_BI,
	/* Micro Integrator (HMACJWTTokenGenerator, nimbus-jose-jwt):
	 * header {"kid":K,"alg":"HS256"}, payload {"iss","aud","exp","iat",
	 * "scope"}, compact, no nbf; nimbus's own member order is not
	 * reproduced byte for byte */
	JWT_STYLE_MI,
};

/* A token as the client of `style` makes it at `iat` (seconds) for
 * `lifetime_s`, NUL-terminated in `out`: its length, or -ENOSPC (cap too
 * small), -EINVAL (no kid or key, a key shorter than JWT_KEY_MIN). */
int jwt_sign(enum jwt_style style, const char *kid, const void *key,
		size_t keylen, int64_t iat, int64_t lifetime_s, char *out,
		size_t cap);

/* A token of any header and payload JSON, signed with HMAC-SHA256 under
 * `key` whatever the header says: for tests and the fuzzer.  Its length,
 * or -ENOSPC, -EINVAL. */
int jwt_sign_raw(const char *header_json, const char *payload_json,
		const void *key, size_t keylen, char *out, size_t cap);

/* A secret string split as both clients split it: at the first '.' when
 * it is neither the first nor the last character (kid before, key
 * material after), else no kid and the whole string as key material.
 * The pointers point into `secret`. */
void jwt_split_secret(const char *secret, const char **kid, size_t *kidlen,
		const char **key, size_t *keylen);

/* The HMAC key of a secret whose raw bytes the caller holds: their
 * standard base64 with padding, as the secret string shows it (44
 * characters and a NUL for 32 bytes).  Its length, or -ENOSPC. */
int jwt_key_text(const unsigned char *raw, size_t rawlen, char *out,
		size_t cap);

#endif
