/* JWKS parsing: jwks_parse, then jwks_find over what it kept. Input: the JWKS text, handed
 * over as exactly its bytes (jwks_load gives jwks_parse a buffer with no NUL after them). */
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "fuzz.h"
#include "jwks.h"

/* A kept key is one OpenSSL reads back, of the size its algorithm signs with. */
static void fuzz_check_key(const struct jwks_set *set, const struct jwks_key *k)
{
	BIO *bio;
	EVP_PKEY *pkey;

	FUZZ_ASSERT(k->alg == JWKS_ES256 || k->alg == JWKS_RS256);
	FUZZ_ASSERT(k->pem != NULL && k->pem_len == strlen(k->pem));
	FUZZ_ASSERT(strncmp(k->pem, "-----BEGIN PUBLIC KEY-----\n", 27) == 0);
	if (k->alg == JWKS_ES256)
		FUZZ_ASSERT(k->sig_len == 64);
	else
		FUZZ_ASSERT(k->sig_len >= JWKS_RSA_MIN_BITS / 8 && k->sig_len <= JWKS_RSA_MAX_BITS / 8);
	FUZZ_ASSERT(k->kid == NULL || (k->kid[0] != '\0' && strlen(k->kid) <= JWKS_MAX_KID));
	/* Keys of one algorithm differ in kid, so the kid finds this very key. */
	if (k->kid)
		FUZZ_ASSERT(jwks_find(set, k->alg, k->kid) == k);
	bio = BIO_new_mem_buf(k->pem, (int)k->pem_len);
	FUZZ_ASSERT(bio != NULL);
	pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	FUZZ_ASSERT(pkey != NULL);
	FUZZ_ASSERT(EVP_PKEY_is_a(pkey, k->alg == JWKS_ES256 ? "EC" : "RSA"));
	EVP_PKEY_free(pkey);
	BIO_free(bio);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	struct jwks_set set;
	const char *why = NULL;
	err_t rc;

	FUZZ_ASSERT(buf != NULL);
	if (size)
		memcpy(buf, data, size);
	memset(&set, 0xA5, sizeof set); /* jwks_parse initialises it */
	rc = jwks_parse(&set, buf, size, &why);
	if (rc == ERR_OK) {
		FUZZ_ASSERT(set.keys != NULL && set.count <= JWKS_MAX_KEYS);
		for (size_t i = 0; i < set.count; i++)
			fuzz_check_key(&set, &set.keys[i]);
		/* No kid asked: a key only when it is the one key of its algorithm. */
		for (enum jwks_alg a = JWKS_ES256; a <= JWKS_RS256; a++) {
			const struct jwks_key *k = jwks_find(&set, a, NULL);
			if (k)
				FUZZ_ASSERT(k->alg == a);
		}
	} else {
		FUZZ_ASSERT(rc == ERR_VALIDATION || rc == ERR_INTERNAL);
		FUZZ_ASSERT(why != NULL && set.keys == NULL && set.count == 0);
	}
	jwks_set_free(&set);
	FUZZ_ASSERT(set.keys == NULL && set.count == 0);
	ERR_clear_error();
	free(buf);
	return 0;
}
