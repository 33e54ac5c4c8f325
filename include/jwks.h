/* JWKS parsing: turns the public keys of a JSON Web Key Set into PEM text, the only key
 * form libjwt 1.10.2 accepts for ES256/RS256. Only EC P-256 (ES256) and RSA (RS256)
 * signing keys are kept; keys of other types are skipped, malformed keys of these types
 * are an error (a bad key in the configuration should stop the service, not hide). */
#ifndef VS_JWKS_H
#define VS_JWKS_H

#include <stddef.h>

#include "err.h"

struct json_object; /* json-c */

#define JWKS_MAX_BYTES (1024 * 1024) /* cap on a JWKS file or text */
#define JWKS_MAX_KEYS 64
#define JWKS_MAX_KID 255
#define JWKS_RSA_MIN_BITS 2048
#define JWKS_RSA_MAX_BITS 8192

enum jwks_alg {
	JWKS_ES256 = 1,
	JWKS_RS256 = 2,
};

struct jwks_key {
	enum jwks_alg alg;
	char *kid;      /* NULL when the JWK has no "kid" */
	char *pem;      /* SubjectPublicKeyInfo PEM, NUL-terminated */
	size_t pem_len; /* strlen(pem) */
	size_t sig_len; /* exact signature size in bytes: 64 for ES256, modulus size for RS256 */
};

struct jwks_set {
	struct jwks_key *keys;
	size_t count;
};

/* Parses {"keys":[...]} text of len bytes into *set (which it initialises).
 * ERR_VALIDATION with *why set when the text or a supported key is malformed (or OpenSSL
 * refuses it), ERR_INTERNAL on allocation failure. *set is empty on error. */
err_t jwks_parse(struct jwks_set *set, const char *json, size_t len, const char **why) WUR;

/* src is JSON text (first non-blank character '{') or a file path holding such text, of at
 * most JWKS_MAX_BYTES. NULL or blank src: ERR_OK with *set empty (no JWKS configured). */
err_t jwks_load(struct jwks_set *set, const char *src, const char **why) WUR;

void jwks_set_free(struct jwks_set *set);

/* kid non-NULL: the key of alg whose kid equals it. kid NULL: the key of alg when exactly
 * one key of alg exists. NULL otherwise. */
const struct jwks_key *jwks_find(const struct jwks_set *set, enum jwks_alg alg, const char *kid);

/* PEM (*pem, malloc'd, NUL-terminated) of an RSA public key from big-endian n and e;
 * *sig_len gets the modulus size in bytes. ERR_VALIDATION with *why set when the modulus is
 * not odd and JWKS_RSA_MIN_BITS..JWKS_RSA_MAX_BITS bits, the exponent not odd and 3..2^64,
 * or OpenSSL refuses the key; ERR_INTERNAL on allocation failure. *pem NULL on error. */
err_t jwks_rsa_pem(const unsigned char *n, size_t n_len, const unsigned char *e, size_t e_len,
		   char **pem, size_t *sig_len, const char **why) WUR;

/* 1 when in[0..len) is canonical unpadded base64url (RFC 7515 section 2): only the
 * alphabet, no length of 1 mod 4, and zero bits past the last whole byte. */
int jwks_b64url_valid(const char *in, size_t len);

/* Decodes canonical unpadded base64url into a malloc'd buffer (NUL-terminated, the NUL not
 * counted in *out_len). ERR_VALIDATION when in is not canonical base64url. */
err_t jwks_b64url_decode(const char *in, size_t len, unsigned char **out, size_t *out_len) WUR;

/* Unpadded base64url text of in (malloc'd), or NULL on allocation failure. */
char *jwks_b64url_encode(const unsigned char *in, size_t len);

/* Parses exactly len bytes of JSON text (json-c's strict mode, not quite RFC 8259: see
 * jwks.c; trailing blanks allowed) into *out, which the caller json_object_put()s.
 * ERR_VALIDATION when it is not one JSON value or is JSON null (json-c's NULL),
 * ERR_INTERNAL on allocation failure; *out NULL on error. */
err_t jwks_json_parse(const char *text, size_t len, struct json_object **out) WUR;

#endif
