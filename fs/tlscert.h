/*
 * tlscert.h - the certificate of the HTTPS listener (https.h) when none is
 * given: a self-signed one, made with GnuTLS on first start and kept
 * beside the database (store_default_tls_paths()), so that a client that
 * trusts it once goes on trusting it across restarts.
 *
 * The key is ECDSA P-256, written in PKCS #8 PEM with mode 0600; the
 * certificate names localhost, 127.0.0.1, ::1 and the host's name, and is
 * valid for ten years.  Each file is written to a temporary name, synced
 * and renamed into place, the key first, so that a crash leaves each file
 * whole or absent: a key without its certificate gets a new certificate
 * for that key at the next start, a certificate without its key is
 * replaced with a new pair.
 */
#ifndef FS_TLSCERT_H
#define FS_TLSCERT_H

#include <stddef.h>

#define TLSCERT_DAYS 3650
/* "AB:CD:...", the SHA-256 of the certificate's DER, and a NUL */
#define TLSCERT_FINGERPRINT_MAX (32 * 3)

/* Makes sure `cert_file` and `key_file` hold a pair: keeps the pair that
 * is there; makes what is missing as above.  A key that group or others
 * may read or write is refused (its mode says someone changed it).  0
 * with *made 1 when something was made, 0 when both were there; -errno
 * with errmsg() (store/errmsg.h) naming the file. */
int tlscert_ensure(const char *cert_file, const char *key_file, int *made)
	__attribute__((warn_unused_result));

/* The SHA-256 fingerprint of the first certificate in the PEM file
 * `cert_file`, as "AB:CD:...", into `buf` of TLSCERT_FINGERPRINT_MAX
 * bytes.  0, or -errno with errmsg(). */
int tlscert_fingerprint(const char *cert_file, char *buf, size_t size)
	__attribute__((warn_unused_result));

/* Reads the whole of `path` (at most 1 MiB) into a NUL-terminated,
 * malloc()ed string; *len its length.  NULL with errno, and errmsg(). */
char *tlscert_read(const char *path, size_t *len);

#endif
