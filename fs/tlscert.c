/*
 * tlscert.c - the listener's self-signed certificate, made once with
 * GnuTLS's x509 API and kept (tlscert.h).
 */
#define _GNU_SOURCE             /* mkostemp() */
#include "tlscert.h"
#include "../store/errmsg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FILE_MAX (1 << 20)
#define DAY 86400

char *tlscert_read(const char *path, size_t *len)
{
	struct stat st;
	char *data = NULL;
	size_t n = 0;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;

	if (fd < 0) {
		err = errno;
		goto fail;
	}
	if (fstat(fd, &st)) {
		err = errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > FILE_MAX) {
		err = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		goto fail;
	}
	data = malloc((size_t)st.st_size + 1);
	if (!data) {
		err = ENOMEM;
		goto fail;
	}
	while (n < (size_t)st.st_size) {
		r = read(fd, data + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = errno;
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	data[n] = '\0';
	close(fd);
	*len = n;
	return data;
fail:
	errmsg_set(-err, "%s: %s", path, err == EINVAL ?
			"not a regular file" : strerror(err));
	if (fd >= 0)
		close(fd);
	if (data)
		gnutls_memset(data, 0, n);
	free(data);
	errno = err;
	return NULL;
}

/* Writes `len` bytes to `path` with `mode`, whole or not at all: to a
 * temporary name beside it, synced, renamed over it, the directory
 * synced.  0, or -errno with errmsg(). */
static int write_whole(const char *path, const void *data, size_t len,
		mode_t mode)
{
	char tmp[PATH_MAX], *d = strdup(path), *b = strdup(path);
	const char *p = data;
	int fd = -1, dfd, err = 0, made = 0;
	ssize_t r;

	if (!d || !b) {
		err = ENOMEM;
		goto out;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dirname(d),
			basename(b)) >= sizeof(tmp)) {
		err = ENAMETOOLONG;
		goto out;
	}
	fd = mkostemp(tmp, O_CLOEXEC);         /* 0600 from the start */
	if (fd < 0) {
		err = errno;
		goto out;
	}
	made = 1;
	if (fchmod(fd, mode)) {
		err = errno;
		goto out;
	}
	while (len > 0) {
		r = write(fd, p, len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = errno;
			goto out;
		}
		p += r;
		len -= (size_t)r;
	}
	if (fsync(fd) || close(fd)) {
		err = errno;
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path)) {
		err = errno;
		goto out;
	}
	made = 0;
	dfd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
out:
	if (fd >= 0)
		close(fd);
	if (made)
		unlink(tmp);
	free(d);
	free(b);
	return err ? errmsg_set(-err, "cannot write %s: %s", path,
			strerror(err)) : 0;
}

static int tls_fail(const char *what, const char *file, int e)
{
	return errmsg_set(-EIO, "%s %s: %s", what, file, gnutls_strerror(e));
}

/* Whether `path` exists: 1, 0, or -errno with errmsg(). */
static int exists(const char *path, struct stat *st)
{
	if (!stat(path, st))
		return 1;
	if (errno == ENOENT)
		return 0;
	return errmsg_set(-errno, "%s: %s", path, strerror(errno));
}

/* The host's name, if it is one a certificate can carry as a DNS name
 * other than localhost; "" if not. */
static void host_name(char *buf, size_t size)
{
	memset(buf, 0, size);
	if (gethostname(buf, size - 1) || !buf[0])
		goto none;
	if (!strcmp(buf, "localhost") ||
	    strspn(buf, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			"0123456789.-") != strlen(buf) ||
	    buf[0] == '.' || buf[0] == '-')
		goto none;
	return;
none:
	buf[0] = '\0';
}

/* A self-signed certificate for `key`, PEM-encoded into `out` (which the
 * caller gnutls_free()s). */
static int make_cert(gnutls_x509_privkey_t key, const char *file,
		gnutls_datum_t *out)
{
	static const unsigned char v4[4] = { 127, 0, 0, 1 };
	static const unsigned char v6[16] = { [15] = 1 };
	gnutls_x509_crt_t crt;
	unsigned char serial[16], id[64];
	size_t idlen = sizeof(id);
	char host[256];
	const char *cn;
	time_t now = time(NULL);
	int e;

	host_name(host, sizeof(host));
	cn = host[0] ? host : "localhost";
	e = gnutls_x509_crt_init(&crt);
	if (e < 0)
		return tls_fail("making the certificate", file, e);
	/* a positive 128-bit serial, never 0 */
	if ((e = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial))) >= 0) {
		serial[0] = (unsigned char)((serial[0] & 0x7f) | 0x40);
		e = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial));
	}
	if (e >= 0)
		e = gnutls_x509_crt_set_version(crt, 3);
	/* an hour back, for clocks a little behind ours */
	if (e >= 0)
		e = gnutls_x509_crt_set_activation_time(crt, now - 3600);
	if (e >= 0)
		e = gnutls_x509_crt_set_expiration_time(crt,
				now + (time_t)TLSCERT_DAYS * DAY);
	if (e >= 0)
		e = gnutls_x509_crt_set_dn_by_oid(crt,
				GNUTLS_OID_X520_COMMON_NAME, 0, cn,
				(unsigned)strlen(cn));
	if (e >= 0)
		e = gnutls_x509_crt_set_dn_by_oid(crt,
				GNUTLS_OID_X520_ORGANIZATION_NAME, 0,
				"runtimefs", 9);
	if (e >= 0)
		e = gnutls_x509_crt_set_subject_alt_name(crt,
				GNUTLS_SAN_DNSNAME, "localhost", 9,
				GNUTLS_FSAN_APPEND);
	if (e >= 0)
		e = gnutls_x509_crt_set_subject_alt_name(crt,
				GNUTLS_SAN_IPADDRESS, v4, sizeof(v4),
				GNUTLS_FSAN_APPEND);
	if (e >= 0)
		e = gnutls_x509_crt_set_subject_alt_name(crt,
				GNUTLS_SAN_IPADDRESS, v6, sizeof(v6),
				GNUTLS_FSAN_APPEND);
	if (e >= 0 && host[0])
		e = gnutls_x509_crt_set_subject_alt_name(crt,
				GNUTLS_SAN_DNSNAME, host,
				(unsigned)strlen(host), GNUTLS_FSAN_APPEND);
	/* a server's certificate, not an authority's */
	if (e >= 0)
		e = gnutls_x509_crt_set_basic_constraints(crt, 0, -1);
	if (e >= 0)
		e = gnutls_x509_crt_set_key_usage(crt,
				GNUTLS_KEY_DIGITAL_SIGNATURE);
	if (e >= 0)
		e = gnutls_x509_crt_set_key_purpose_oid(crt,
				GNUTLS_KP_TLS_WWW_SERVER, 0);
	if (e >= 0)
		e = gnutls_x509_crt_set_key(crt, key);
	if (e >= 0)
		e = gnutls_x509_crt_get_key_id(crt, 0, id, &idlen);
	if (e >= 0)
		e = gnutls_x509_crt_set_subject_key_id(crt, id, idlen);
	if (e >= 0)
		e = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0);
	if (e >= 0)
		e = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, out);
	gnutls_x509_crt_deinit(crt);
	return e < 0 ? tls_fail("making the certificate", file, e) : 0;
}

/* Whether the key file, as `st` says, is a file the owner's only. */
static int key_file_private(const char *key_file, const struct stat *st)
{
	if (!S_ISREG(st->st_mode))
		return errmsg_set(-EINVAL, "the TLS key %s is not a regular"
				" file", key_file);
	if (st->st_mode & 077)
		return errmsg_set(-EACCES, "the TLS key %s may be read or"
				" written by group or others (mode %04o):"
				" chmod 600 %s", key_file,
				(unsigned)(st->st_mode & 07777), key_file);
	return 0;
}

/* The key in `key_file`, which must be the owner's only. */
static int load_key(const char *key_file, const struct stat *st,
		gnutls_x509_privkey_t key)
{
	gnutls_datum_t d;
	size_t len;
	char *pem;
	int e = key_file_private(key_file, st);

	if (e)
		return e;
	pem = tlscert_read(key_file, &len);
	if (!pem)
		return -errno;
	d.data = (unsigned char *)pem;
	d.size = (unsigned)len;
	e = gnutls_x509_privkey_import2(key, &d, GNUTLS_X509_FMT_PEM, NULL, 0);
	gnutls_memset(pem, 0, len);
	free(pem);
	return e < 0 ? tls_fail("reading the TLS key", key_file, e) : 0;
}

/* A new P-256 key, written to `key_file` (0600). */
static int make_key(const char *key_file, gnutls_x509_privkey_t key)
{
	gnutls_datum_t pem = { NULL, 0 };
	int e, ret;

	e = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
			GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
	if (e >= 0)
		e = gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM,
				NULL, GNUTLS_PKCS_PLAIN, &pem);
	if (e < 0)
		return tls_fail("making the TLS key", key_file, e);
	ret = write_whole(key_file, pem.data, pem.size, 0600);
	gnutls_memset(pem.data, 0, pem.size);
	gnutls_free(pem.data);
	return ret;
}

int tlscert_ensure(const char *cert_file, const char *key_file, int *made)
{
	gnutls_x509_privkey_t key;
	gnutls_datum_t pem = { NULL, 0 };
	struct stat kst, cst;
	int have_key, have_cert, e, ret;

	*made = 0;
	have_key = exists(key_file, &kst);
	if (have_key < 0)
		return have_key;
	have_cert = exists(cert_file, &cst);
	if (have_cert < 0)
		return have_cert;
	if (have_key && have_cert)
		return key_file_private(key_file, &kst);
	e = gnutls_x509_privkey_init(&key);
	if (e < 0)
		return tls_fail("making the TLS key", key_file, e);
	/* the key first: a crash before the certificate is renamed leaves
	 * a key that the next start makes a certificate for */
	ret = have_key ? load_key(key_file, &kst, key) :
		make_key(key_file, key);
	if (!ret)
		ret = make_cert(key, cert_file, &pem);
	if (!ret)
		ret = write_whole(cert_file, pem.data, pem.size, 0644);
	gnutls_free(pem.data);
	gnutls_x509_privkey_deinit(key);
	if (!ret)
		*made = 1;
	return ret;
}

int tlscert_fingerprint(const char *cert_file, char *buf, size_t size)
{
	gnutls_x509_crt_t crt;
	unsigned char fp[32];
	size_t fplen = sizeof(fp), len;
	gnutls_datum_t d;
	char *pem = tlscert_read(cert_file, &len);
	int e;

	if (!pem)
		return -errno;
	if (size < TLSCERT_FINGERPRINT_MAX) {
		free(pem);
		return errmsg_set(-ENAMETOOLONG, "no room for a fingerprint");
	}
	d.data = (unsigned char *)pem;
	d.size = (unsigned)len;
	e = gnutls_x509_crt_init(&crt);
	if (e >= 0) {
		e = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM);
		if (e >= 0)
			e = gnutls_x509_crt_get_fingerprint(crt,
					GNUTLS_DIG_SHA256, fp, &fplen);
		gnutls_x509_crt_deinit(crt);
	}
	free(pem);
	if (e < 0)
		return tls_fail("reading the certificate", cert_file, e);
	for (size_t i = 0; i < fplen; i++)
		snprintf(buf + 3 * i, size - 3 * i, i + 1 < fplen ? "%02X:" :
				"%02X", fp[i]);
	return 0;
}
