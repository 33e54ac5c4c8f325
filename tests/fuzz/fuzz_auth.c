/* Token verification: auth_bearer_parse and auth_verify, with keys loaded once from a
 * fixed HS256 secret and a small fixed JWKS (one ES256 and one RS256 key, whose private
 * halves are below: fuzzing keys, used nowhere else).
 * Input: one mode byte, then
 *   mode % 4 == 0: the Authorization header value, as sent (a C string);
 *   otherwise: the token header JSON, a newline, the payload JSON, which this target
 *   base64url-encodes and signs (1 HS256, 2 ES256, 3 RS256), so that the claim checks
 *   behind the signature check are reached. */
#include <ctype.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "auth.h"
#include "fuzz.h"
#include "jwks.h"
#include "valid.h"

#define FUZZ_NOW 1700000000 /* 2023-11-14: the seeds' exp and nbf are around it */
#define FUZZ_SECRET "fuzz-only-hs256-secret-0123456789abcdef"

static const char fuzz_ec_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg1l/mKCgjhY/D9hFA\n"
	"JV+wo/mKZ8oFFt+i2bLik3b05GahRANCAAQy4QXEMPrjaB3Cmd5at9Yqd6HjTgN0\n"
	"fD7eqaewlGXmPCtV3m+Sn0YYlWm6oDU0n6Bbwvkp6hcfTNH4U/SljTxa\n"
	"-----END PRIVATE KEY-----\n";
static const char fuzz_rsa_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCktUpu3HIOU0S0\n"
	"+1BN5XsBkCBjr0MxteOYO/QKLa0SKw2gR2/YqE6xt0r7+KZR5VJ2kAsygASBA6CZ\n"
	"UWBKkTDF/OTSJwdVGAlTwGgADHpM1jZF8fMl2i4upFMZGjy7zs1+5+dHMzKVnIMv\n"
	"dmrX9l9vY+r9tRAfPDmrYLUEqe2SiYmCKFtTafhRGj8h4oqISUstnikFbyTc9b1/\n"
	"NLJHSGMEifvDVn6L2/N2esKPnSDCXncNR5KzcZHLcwdis8xAwiN2FeEomNLOUBiz\n"
	"8MBFLTQVr9e6nBTGyOHCMy1kmANpPluwpgrOx4D0wTYmnoSpWkzGOhukaACsdUk8\n"
	"XCOHNdXBAgMBAAECggEAG8rVePhsrHsjfFBtv/8pbt2VgYyYz4IMGet/5dnIOukV\n"
	"3wY+2rWntbgiiHrwAaCq9gOfSBGu8OAeUNCY6WwvaTEfoVBhndu08zNjuSJh3qZE\n"
	"uS+24hu7MDadKP6y4dPm+/OApJSAhBtJTZBzPea+OssG43GSe1rLtl3WnadYxaF3\n"
	"QT3XR8LmF7ElGYo36L2Byu/jItNnWM6QBLjOjLn471gWnIYcabPsaQW71Hl+g8wP\n"
	"ufBQ5wtmT3N9thOTcHkB+5TNPku0Ijjg7AywmCQF0AXSPDZe20jxE+U0V5vxcb7d\n"
	"2TBxkHH8Nu008nfGvEeCnEAoyBtQebCdF6oCxH1yeQKBgQDU0xmFWbJOcvi52MAo\n"
	"09UFY/WoLGMNxhaJT0fCMRQsmA4b42tMSQa6YOJGFvzC8OUqzkRJTjLcMLXxZvvq\n"
	"z15Bc67V0j7dXT7ReMNx93N5SZW+QRfs0X5yKQqBQRD/AexETMwPwMt6zHAe0mvX\n"
	"GSopuLCgAQL9Nk+CfsD0i2bYDQKBgQDGH0vwUT3yPixWGjzF/W9u/s45UnpES7CY\n"
	"nX8n9SJcSglmlGZIx0OZBIIF3vOotkteU3P1pLbWCl7i5u9S1xZv1Vu9YPSEzxbg\n"
	"iogAss460EcA+FPOeEC3XahoD2FxszuNlEAlSDdXW1cf4O5NBy7U3t9s1ultas1c\n"
	"hhdNQHEzhQKBgQCSqlfwGfxTK9BU4xaqDDHFYTmuB8jLeTOWtNgS75ejk7ZFadhL\n"
	"3heQ4auN+dF+1lxXv4Y3rnhGXhtEnWAGVZnzKTHXkOhZzSS5XqvyIkGl2Bwl3N4M\n"
	"CeNF8RqYMKrx0fVsrDAEuyx/F9w8oW5H8cOotOqjmY7hyUfJ+mgnHtplEQKBgA9h\n"
	"nqOpqwWDji2hG9bDNkOHxLrujE+BENTIZXbUsTY5CUHNg6Ni1PysPOv3wzL19CP+\n"
	"lqIbh5ZWd8dl5m6oBDXqepTZUiJ9cWk9WBG10A0A3oJUxSziaSPTQZ/Skd4h7B2x\n"
	"xMkgMiu2C62N6PJR/HDKXM42YSj9gbQNNQHqXt+BAoGAPXmYlxkkcCykF1rePS3O\n"
	"AUFcA66x9oj7vCXBwKOQBBBIdly7orgD3fRAUuVHrV2urTzJ5RUboD5qcIAAPE+p\n"
	"RxFJB5TnhYzz5fDWhhsVv6u15Z8knLm7VqmEzaHa/0J1vWnN4tTzAY8xZaMLozZz\n"
	"hlCdG3NkGbwjIN1SsdZpZVk=\n"
	"-----END PRIVATE KEY-----\n";

static struct auth_keys *fuzz_keys;
static int fuzz_verbose; /* FUZZ_VERBOSE set: each input's verdict on stderr (for seeds) */
static EVP_PKEY *fuzz_ec, *fuzz_rsa;

static EVP_PKEY *fuzz_private(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;

	FUZZ_ASSERT(k != NULL);
	BIO_free(bio);
	return k;
}

/* base64url of a BIGNUM parameter of k (RSA "n", "e"). */
static char *fuzz_bn_b64(EVP_PKEY *k, const char *name)
{
	BIGNUM *bn = NULL;
	unsigned char buf[512];
	int n;
	char *s;

	FUZZ_ASSERT(EVP_PKEY_get_bn_param(k, name, &bn) == 1);
	n = BN_bn2bin(bn, buf);
	FUZZ_ASSERT(n > 0 && (size_t)n <= sizeof buf);
	s = jwks_b64url_encode(buf, (size_t)n);
	FUZZ_ASSERT(s != NULL);
	BN_free(bn);
	return s;
}

/* The public JWKS of the two private keys. */
static char *fuzz_jwks_text(void)
{
	unsigned char pt[65];
	size_t len = 0;
	char *x, *y, *n, *e, *text = malloc(4096);

	FUZZ_ASSERT(text != NULL);
	FUZZ_ASSERT(EVP_PKEY_get_octet_string_param(fuzz_ec, OSSL_PKEY_PARAM_PUB_KEY, pt,
						    sizeof pt, &len) == 1 && len == 65);
	x = jwks_b64url_encode(pt + 1, 32);
	y = jwks_b64url_encode(pt + 33, 32);
	n = fuzz_bn_b64(fuzz_rsa, OSSL_PKEY_PARAM_RSA_N);
	e = fuzz_bn_b64(fuzz_rsa, OSSL_PKEY_PARAM_RSA_E);
	FUZZ_ASSERT(x && y);
	len = (size_t)snprintf(text, 4096,
			       "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"fuzz-es256\","
			       "\"alg\":\"ES256\",\"use\":\"sig\",\"x\":\"%s\",\"y\":\"%s\"},"
			       "{\"kty\":\"RSA\",\"kid\":\"fuzz-rs256\",\"alg\":\"RS256\","
			       "\"n\":\"%s\",\"e\":\"%s\"}]}",
			       x, y, n, e);
	FUZZ_ASSERT(len < 4096);
	free(x);
	free(y);
	free(n);
	free(e);
	return text;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *why = NULL;
	char *jwks;

	(void)argc;
	(void)argv;
	fuzz_ec = fuzz_private(fuzz_ec_pem);
	fuzz_rsa = fuzz_private(fuzz_rsa_pem);
	jwks = fuzz_jwks_text();
	fuzz_verbose = getenv("FUZZ_VERBOSE") != NULL;
	if (auth_keys_load(&fuzz_keys, FUZZ_SECRET, jwks, &why) != ERR_OK) {
		fprintf(stderr, "fuzz_auth: auth_keys_load: %s\n", why);
		abort();
	}
	free(jwks);
	return 0;
}

/* JWS R || S (32 bytes each) of an ECDSA DER signature. */
static size_t fuzz_es256_raw(const unsigned char *der, size_t der_len, unsigned char *out)
{
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	const BIGNUM *r, *s;

	FUZZ_ASSERT(sig != NULL);
	ECDSA_SIG_get0(sig, &r, &s);
	FUZZ_ASSERT(BN_bn2binpad(r, out, 32) == 32 && BN_bn2binpad(s, out + 32, 32) == 32);
	ECDSA_SIG_free(sig);
	return 64;
}

/* The signature of msg under the mode's algorithm, into sig (at least 512 bytes). */
static size_t fuzz_sign(int alg, const char *msg, size_t len, unsigned char *sig)
{
	unsigned char der[512];
	size_t n = sizeof der;
	unsigned int hl = 0;
	EVP_MD_CTX *md;

	if (alg == 1) {
		FUZZ_ASSERT(HMAC(EVP_sha256(), FUZZ_SECRET, (int)strlen(FUZZ_SECRET),
				 (const unsigned char *)msg, len, sig, &hl) != NULL);
		return hl;
	}
	md = EVP_MD_CTX_new();
	FUZZ_ASSERT(md != NULL);
	FUZZ_ASSERT(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL,
				       alg == 2 ? fuzz_ec : fuzz_rsa) == 1);
	FUZZ_ASSERT(EVP_DigestSign(md, der, &n, (const unsigned char *)msg, len) == 1);
	EVP_MD_CTX_free(md);
	if (alg == 2)
		return fuzz_es256_raw(der, n, sig);
	memcpy(sig, der, n);
	return n;
}

/* "Bearer <b64(header)>.<b64(payload)>.<b64(signature)>" */
static char *fuzz_signed_header(int alg, const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t hl = nl ? (size_t)(nl - data) : size;
	char *h = jwks_b64url_encode(data, hl);
	char *p = jwks_b64url_encode(nl ? nl + 1 : data + size, nl ? size - hl - 1 : 0);
	size_t cap = strlen(h) + strlen(p) + 1024, n;
	char *out = malloc(cap), *s;
	unsigned char sig[512];
	size_t sig_len;

	FUZZ_ASSERT(h && p && out);
	n = (size_t)snprintf(out, cap, "Bearer %s.%s", h, p);
	sig_len = fuzz_sign(alg, out + 7, n - 7, sig);
	s = jwks_b64url_encode(sig, sig_len);
	FUZZ_ASSERT(s != NULL);
	FUZZ_ASSERT((size_t)snprintf(out + n, cap - n, ".%s", s) < cap - n);
	free(s);
	free(h);
	free(p);
	return out;
}

static void fuzz_check_bearer(const char *h)
{
	const char *tok = NULL, *why = NULL;
	size_t len = 0;

	if (auth_bearer_parse(h, &tok, &len, &why) != ERR_OK) {
		FUZZ_ASSERT(why != NULL);
		return;
	}
	FUZZ_ASSERT(tok == h + 7 && len > 0 && len <= AUTH_TOKEN_MAX && tok[len] == '\0');
	FUZZ_ASSERT(strncasecmp(h, "bearer ", 7) == 0);
}

/* Who a verified token says it is: a plain role, a lower-case UUID or nothing as sub. */
static void fuzz_check_identity(const struct auth_identity *id)
{
	struct json_object *claims = NULL;
	size_t i;

	FUZZ_ASSERT(id->role[0] != '\0' && memchr(id->role, '\0', sizeof id->role));
	for (i = 0; id->role[i]; i++)
		FUZZ_ASSERT(isalnum((unsigned char)id->role[i]) || id->role[i] == '_');
	FUZZ_ASSERT(id->sub[0] == '\0' || (valid_is_uuid(id->sub) && strpbrk(id->sub, "ABCDEF") == NULL));
	if (strcmp(id->role, "authenticated") == 0)
		FUZZ_ASSERT(id->sub[0] != '\0');
	FUZZ_ASSERT(id->claims_json != NULL);
	FUZZ_ASSERT(jwks_json_parse(id->claims_json, strlen(id->claims_json), &claims) == ERR_OK);
	FUZZ_ASSERT(json_object_is_type(claims, json_type_object));
	json_object_put(claims);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auth_identity id;
	const char *why = NULL;
	int mode = size ? data[0] % 4 : 0;
	char *h = mode == 0 ? fuzz_cstr(data + !!size, size - !!size)
			    : fuzz_signed_header(mode, data + 1, size - 1);
	err_t rc;

	fuzz_check_bearer(h);
	memset(&id, 0xA5, sizeof id); /* auth_verify initialises it */
	rc = auth_verify(fuzz_keys, h, FUZZ_NOW, &id, &why);
	FUZZ_ASSERT(why != NULL);
	if (fuzz_verbose)
		fprintf(stderr, "auth_verify: %s (%s)\n", rc == ERR_OK ? "ok" : "refused", why);
	if (rc == ERR_OK) {
		fuzz_check_identity(&id);
	} else {
		FUZZ_ASSERT(rc == ERR_UNAUTHORIZED);
		FUZZ_ASSERT(id.claims_json == NULL && id.sub[0] == '\0' && id.role[0] == '\0');
	}
	auth_identity_clear(&id);
	ERR_clear_error();
	free(h);
	return 0;
}
