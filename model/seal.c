/*
 * seal.c - key material at rest: sealed (XSalsa20-Poly1305, libsodium's
 * crypto_secretbox) with a key that lives outside the database.
 *
 * The key file holds 32 random bytes, mode 0600, created on first start
 * beside the database as DB.key (or where model_config.key_path says).  A
 * copy of the database alone therefore holds no usable secret; the
 * daemon can still recover the raw secret when it must (to show a service
 * account, or to verify HS256-signed tokens, which need the shared key).
 */
#include "model_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

static int read_key(int fd, unsigned char *key, const char *path)
{
	ssize_t n = read(fd, key, crypto_secretbox_KEYBYTES);

	if (n != crypto_secretbox_KEYBYTES)
		return model_fail(-EIO, "key file %s is not %d bytes long",
				path, crypto_secretbox_KEYBYTES);
	return 0;
}

int model_seal_init(struct model *m, const char *key_path)
{
	int fd, ret;

	if (!key_path) {
		/* an in-memory database gets a key that dies with it */
		randombytes_buf(m->key, sizeof(m->key));
		return 0;
	}
	fd = open(key_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		ret = read_key(fd, m->key, key_path);
		close(fd);
		return ret;
	}
	if (errno != ENOENT)
		return model_fail(-errno, "key file %s: %s", key_path,
				strerror(errno));
	fd = open(key_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return model_fail(-errno, "cannot create key file %s: %s",
				key_path, strerror(errno));
	randombytes_buf(m->key, sizeof(m->key));
	if (write(fd, m->key, sizeof(m->key)) != (ssize_t)sizeof(m->key) ||
	    fsync(fd)) {
		ret = model_fail(-EIO, "cannot write key file %s", key_path);
		close(fd);
		unlink(key_path);
		return ret;
	}
	close(fd);
	return 0;
}

int model_seal(struct model *m, const void *plain, size_t len,
		unsigned char *out, size_t cap, size_t *outlen)
{
	size_t need = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES
		+ len;

	if (cap < need)
		return model_fail(-EOVERFLOW, "sealed value too large");
	randombytes_buf(out, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(out + crypto_secretbox_NONCEBYTES, plain, len,
			out, m->key);
	*outlen = need;
	return 0;
}

int model_unseal(struct model *m, const unsigned char *in, size_t len,
		void *plain, size_t cap, size_t *outlen)
{
	size_t over = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES;

	if (len < over || cap < len - over)
		return model_fail(-EIO, "sealed value is damaged");
	if (crypto_secretbox_open_easy(plain, in + crypto_secretbox_NONCEBYTES,
			len - crypto_secretbox_NONCEBYTES, in, m->key))
		return model_fail(-EIO, "sealed value does not open with this"
				" key file");
	*outlen = len - over;
	return 0;
}
