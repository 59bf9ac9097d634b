/*
 * seal.c - key material at rest: sealed (XSalsa20-Poly1305, libsodium's
 * crypto_secretbox) with a key that lives outside the database.
 *
 * The key file holds 32 random bytes, mode 0600, created on first start
 * where model_config.key_path says (the daemon's -o key_file, else where
 * the store keeps it by default, store_default_key_path()).  A
 * copy of the database alone therefore holds no usable secret; the
 * daemon can still recover the raw secret when it must (to show a service
 * account, or to verify HS256-signed tokens, which need the shared key).
 * A key file is made only for a database that holds nothing sealed; for
 * one that does, the key must be there and open what it holds.
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

#define SAMPLE_MAX 4096           /* a sealed value, an image password's too */

/* The key from `fd`: a regular file of exactly the key's length that
 * only its owner may read or write. */
static int read_key(int fd, unsigned char *key, const char *path)
{
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st))
		return model_fail(-errno, "key file %s: %s", path,
				strerror(errno));
	if (!S_ISREG(st.st_mode))
		return model_fail(-EINVAL, "key file %s is not a file", path);
	if (st.st_mode & 066)
		return model_fail(-EACCES, "key file %s may be read or written"
				" by group or others (mode %04o): chmod 600 %s",
				path, (unsigned)(st.st_mode & 07777), path);
	if (st.st_size != crypto_secretbox_KEYBYTES)
		return model_fail(-EINVAL, "key file %s is %lld bytes long; a"
				" key file holds exactly %d bytes", path,
				(long long)st.st_size,
				crypto_secretbox_KEYBYTES);
	n = read(fd, key, crypto_secretbox_KEYBYTES);
	if (n != crypto_secretbox_KEYBYTES)
		return model_fail(-EIO, "key file %s cannot be read", path);
	return 0;
}

/* A new key file, made only for a database that holds nothing sealed. */
static int create_key(struct model *m, const char *key_path)
{
	int fd = open(key_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int ret;

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

int model_seal_init(struct model *m, const char *key_path)
{
	unsigned char sample[SAMPLE_MAX], plain[SAMPLE_MAX];
	char shown[1024];
	size_t len = 0, n;
	int fd, ret, sealed;

	if (!key_path) {
		/* an in-memory database gets a key that dies with it */
		randombytes_buf(m->key, sizeof(m->key));
		return 0;
	}
	/* what the database holds sealed must open with the key: a key
	 * file replaced or lost would make every secret read as nothing */
	sealed = store_sealed_sample(m->store, sample, sizeof(sample), &len);
	if (sealed && sealed != -ENOENT)
		return model_fail_store(sealed);
	store_locator_shown(m->db, shown, sizeof(shown));
	fd = open(key_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno != ENOENT)
		return model_fail(-errno, "key file %s: %s", key_path,
				strerror(errno));
	if (fd < 0 && !sealed)
		return model_fail(-ENOKEY, "key file %s is missing, and %s"
				" holds secrets sealed with it: put that key"
				" file back (a new one would open none of"
				" them)", key_path, shown);
	if (fd < 0) {
		ret = create_key(m, key_path);
	} else {
		ret = read_key(fd, m->key, key_path);
		close(fd);
	}
	/* nothing sealed yet: a check value, the first host's, so that a
	 * host with another key file is refused from now on */
	if (!ret && sealed == -ENOENT) {
		static const char check[] = "runtimefs key check";

		ret = model_seal(m, check, sizeof(check), plain,
				sizeof(plain), &n);
		if (!ret && (ret = store_key_check_put(m->store, plain, n)))
			ret = model_fail_store(ret);
		if (!ret)
			sealed = store_sealed_sample(m->store, sample,
					sizeof(sample), &len);
		if (sealed && sealed != -ENOENT)
			ret = model_fail_store(sealed);
	}
	if (!ret && !sealed && model_unseal(m, sample, len, plain,
			sizeof(plain), &n))
		ret = model_fail(-EKEYREJECTED, "key file %s does not open the"
				" secrets sealed in %s: it is not the key"
				" that sealed them; put that key file back",
				key_path, shown);
	sodium_memzero(plain, sizeof(plain));
	if (ret)
		sodium_memzero(m->key, sizeof(m->key));
	return ret;
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
