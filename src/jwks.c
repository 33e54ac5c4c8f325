/* JWKS -> PEM public keys (see jwks.h). OpenSSL 3 provider APIs only: the deprecated
 * RSA_ / EC_KEY_ setters would warn under OpenSSL 3. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* strdup */
#endif
#include "jwks.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

/* ---- base64url ---- */

static int jwks_b64url_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

int jwks_b64url_valid(const char *in, size_t len)
{
	int last = 0;
	size_t i;

	if (!in || len % 4 == 1)
		return 0;
	for (i = 0; i < len; i++) {
		last = jwks_b64url_val((unsigned char)in[i]);
		if (last < 0)
			return 0;
	}
	/* Non-zero spare bits would let two texts decode to the same bytes (a token
	 * that verifies under several spellings); only the canonical one is accepted. */
	if (len % 4 == 2 && (last & 0x0f))
		return 0;
	if (len % 4 == 3 && (last & 0x03))
		return 0;
	return 1;
}

err_t jwks_b64url_decode(const char *in, size_t len, unsigned char **out, size_t *out_len)
{
	unsigned char *buf;
	unsigned int acc = 0;
	int bits = 0;
	size_t i, o = 0, n;

	*out = NULL;
	*out_len = 0;
	if (!jwks_b64url_valid(in, len))
		return ERR_VALIDATION;
	n = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
	buf = malloc(n + 1);
	if (!buf)
		return ERR_INTERNAL;
	for (i = 0; i < len; i++) {
		acc = ((acc << 6) | (unsigned int)jwks_b64url_val((unsigned char)in[i])) & 0xffffffu;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (unsigned char)(acc >> bits);
		}
	}
	buf[o] = '\0'; /* lets callers treat decoded JSON as a C string */
	*out = buf;
	*out_len = o;
	return ERR_OK;
}

char *jwks_b64url_encode(const unsigned char *in, size_t len)
{
	static const char abc[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t i, o = 0, n = len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0);
	char *s = malloc(n + 1);

	if (!s)
		return NULL;
	for (i = 0; i + 2 < len; i += 3) {
		unsigned long v = (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8 | in[i + 2];
		s[o++] = abc[(v >> 18) & 63];
		s[o++] = abc[(v >> 12) & 63];
		s[o++] = abc[(v >> 6) & 63];
		s[o++] = abc[v & 63];
	}
	if (len - i == 1) {
		unsigned long v = (unsigned long)in[i] << 16;
		s[o++] = abc[(v >> 18) & 63];
		s[o++] = abc[(v >> 12) & 63];
	} else if (len - i == 2) {
		unsigned long v = (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8;
		s[o++] = abc[(v >> 18) & 63];
		s[o++] = abc[(v >> 12) & 63];
		s[o++] = abc[(v >> 6) & 63];
	}
	s[o] = '\0';
	return s;
}

/* ---- JSON ---- */

err_t jwks_json_parse(const char *text, size_t len, struct json_object **out)
{
	struct json_tokener *tok = NULL;
	size_t end;
	err_t rc = ERR_VALIDATION;

	*out = NULL;
	if (!text || len > INT_MAX)
		goto out;
	tok = json_tokener_new();
	if (!tok) {
		rc = ERR_INTERNAL;
		goto out;
	}
	/* As strict as json-c goes, so the text means the same to us and to libjwt's jansson.
	 * json-c still takes single quotes, NaN, Infinity, "1." and raw control characters in
	 * strings; jansson refuses them, so a token header using them fails jwt_decode anyway,
	 * and the payload we parse is jansson's own output. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS |
					  JSON_TOKENER_VALIDATE_UTF8);
	*out = json_tokener_parse_ex(tok, text, (int)len);
	if (!*out || json_tokener_get_error(tok) != json_tokener_success)
		goto out;
	/* One value only: anything but blanks after it is an error. */
	for (end = json_tokener_get_parse_end(tok); end < len; end++)
		if (!strchr(" \t\r\n", text[end]) || text[end] == '\0')
			goto out;
	rc = ERR_OK;
out:
	if (rc != ERR_OK) {
		json_object_put(*out);
		*out = NULL;
	}
	if (tok)
		json_tokener_free(tok);
	return rc;
}

/* ---- OpenSSL key building ---- */

static char *jwks_pkey_to_pem(EVP_PKEY *pkey)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL, *pem = NULL;
	long n;

	if (!bio)
		return NULL;
	if (PEM_write_bio_PUBKEY(bio, pkey) == 1) {
		n = BIO_get_mem_data(bio, &data);
		if (n > 0 && data && (pem = malloc((size_t)n + 1)) != NULL) {
			memcpy(pem, data, (size_t)n);
			pem[n] = '\0';
		}
	}
	BIO_free(bio);
	return pem;
}

/* Builds a public EVP_PKEY of type ("EC", "RSA") from the parameters in bld. */
static EVP_PKEY *jwks_pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;

	if (!params)
		return NULL;
	ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pkey;
}

/* OpenSSL's own sanity check (EC point on the curve, RSA n/e shape). */
static int jwks_pkey_public_ok(EVP_PKEY *pkey)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	int ok = ctx && EVP_PKEY_public_check(ctx) == 1;

	EVP_PKEY_CTX_free(ctx);
	return ok;
}

/* PEM of a P-256 public point given as 32-byte big-endian x, y. ERR_VALIDATION when the
 * point is not on the curve. */
static err_t jwks_ec_p256_pem(const unsigned char *x, size_t x_len, const unsigned char *y,
			      size_t y_len, char **pem, const char **why)
{
	unsigned char pt[65];
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY *pkey = NULL;
	err_t rc = ERR_VALIDATION;

	*pem = NULL;
	/* RFC 7518 6.2.1.2: coordinates are the full 32 bytes, never shortened. */
	if (x_len != 32 || y_len != 32) {
		*why = "JWKS: EC key x and y must be 32 bytes";
		goto out;
	}
	pt[0] = 0x04; /* uncompressed point */
	memcpy(pt + 1, x, 32);
	memcpy(pt + 33, y, 32);
	bld = OSSL_PARAM_BLD_new();
	if (bld &&
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, SN_X9_62_prime256v1, 0) &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt))
		pkey = jwks_pkey_fromdata("EC", bld);
	if (!pkey || !jwks_pkey_public_ok(pkey)) {
		*why = "JWKS: EC key is not a valid P-256 point";
		goto out;
	}
	*pem = jwks_pkey_to_pem(pkey);
	if (!*pem) {
		*why = "JWKS: cannot write EC key as PEM";
		rc = ERR_INTERNAL;
		goto out;
	}
	rc = ERR_OK;
out:
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_free(pkey);
	ERR_clear_error(); /* leave no stale OpenSSL errors for unrelated callers */
	return rc;
}

err_t jwks_rsa_pem(const unsigned char *n, size_t n_len, const unsigned char *e, size_t e_len,
		   char **pem, size_t *sig_len, const char **why)
{
	BIGNUM *bn_n = NULL, *bn_e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY *pkey = NULL;
	int bits;
	err_t rc = ERR_VALIDATION;

	*pem = NULL;
	*sig_len = 0;
	if (n_len > INT_MAX || e_len > INT_MAX) {
		*why = "JWKS: RSA key too large";
		goto out;
	}
	bn_n = BN_bin2bn(n, (int)n_len, NULL);
	bn_e = BN_bin2bn(e, (int)e_len, NULL);
	if (!bn_n || !bn_e) {
		*why = "JWKS: out of memory";
		rc = ERR_INTERNAL;
		goto out;
	}
	bits = BN_num_bits(bn_n);
	/* Short moduli are forgeable; huge ones make each verification a DoS lever. */
	if (bits < JWKS_RSA_MIN_BITS || bits > JWKS_RSA_MAX_BITS || !BN_is_odd(bn_n)) {
		*why = "JWKS: RSA modulus must be odd and 2048-8192 bits";
		goto out;
	}
	if (!BN_is_odd(bn_e) || BN_num_bits(bn_e) < 2 || BN_num_bits(bn_e) > 64) {
		*why = "JWKS: RSA exponent must be odd, 3 .. 2^64";
		goto out;
	}
	bld = OSSL_PARAM_BLD_new();
	if (bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e))
		pkey = jwks_pkey_fromdata("RSA", bld);
	if (!pkey || !jwks_pkey_public_ok(pkey)) {
		*why = "JWKS: RSA key rejected by OpenSSL";
		goto out;
	}
	*pem = jwks_pkey_to_pem(pkey);
	if (!*pem) {
		*why = "JWKS: cannot write RSA key as PEM";
		rc = ERR_INTERNAL;
		goto out;
	}
	*sig_len = (size_t)(bits + 7) / 8;
	rc = ERR_OK;
out:
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_free(pkey);
	BN_free(bn_n);
	BN_free(bn_e);
	ERR_clear_error();
	return rc;
}

/* ---- JWK -> key ---- */

/* The string members of a JWK that say whether and how we use it; NULL when absent. */
struct jwks_jwk {
	const char *kty, *alg, *use, *kid, *crv;
};

/* The member name of obj as a string, NULL when absent; *bad set when present but not a
 * string. */
static const char *jwks_get_str(struct json_object *obj, const char *name, int *bad)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, name, &v))
		return NULL;
	if (!json_object_is_type(v, json_type_string)) {
		*bad = 1;
		return NULL;
	}
	return json_object_get_string(v);
}

static err_t jwks_jwk_read(struct json_object *obj, struct jwks_jwk *j, const char **why)
{
	int bad = 0;

	if (!json_object_is_type(obj, json_type_object)) {
		*why = "JWKS: a key is not a JSON object";
		return ERR_VALIDATION;
	}
	j->kty = jwks_get_str(obj, "kty", &bad);
	j->alg = jwks_get_str(obj, "alg", &bad);
	j->use = jwks_get_str(obj, "use", &bad);
	j->kid = jwks_get_str(obj, "kid", &bad);
	j->crv = jwks_get_str(obj, "crv", &bad);
	if (bad || !j->kty) {
		*why = "JWKS: a key has no kty or a non-string kty/alg/use/kid/crv";
		return ERR_VALIDATION;
	}
	if (j->kid && (j->kid[0] == '\0' || strlen(j->kid) > JWKS_MAX_KID)) {
		*why = "JWKS: a key has an empty or overlong kid";
		return ERR_VALIDATION;
	}
	return ERR_OK;
}

/* 1 when key_ops is absent or lists "verify" (a key restricted to other uses is skipped). */
static int jwks_ops_allow_verify(struct json_object *obj)
{
	struct json_object *ops;
	size_t i, n;

	if (!json_object_object_get_ex(obj, "key_ops", &ops))
		return 1;
	if (!json_object_is_type(ops, json_type_array))
		return 0;
	n = json_object_array_length(ops);
	for (i = 0; i < n; i++) {
		struct json_object *op = json_object_array_get_idx(ops, i);
		if (json_object_is_type(op, json_type_string) &&
		    strcmp(json_object_get_string(op), "verify") == 0)
			return 1;
	}
	return 0;
}

/* The algorithm we verify with this JWK, 0 when it is none of ours: keys for encryption,
 * for other curves or algorithms, and other key types (oct, OKP, ...) are skipped. */
static enum jwks_alg jwks_jwk_alg(struct json_object *obj, const struct jwks_jwk *j)
{
	if ((j->use && strcmp(j->use, "sig") != 0) || !jwks_ops_allow_verify(obj))
		return 0;
	if (strcmp(j->kty, "EC") == 0 && j->crv && strcmp(j->crv, "P-256") == 0 &&
	    (!j->alg || strcmp(j->alg, "ES256") == 0))
		return JWKS_ES256;
	if (strcmp(j->kty, "RSA") == 0 && (!j->alg || strcmp(j->alg, "RS256") == 0))
		return JWKS_RS256;
	return 0;
}

/* Decodes base64url member name of obj; ERR_VALIDATION when missing or malformed. */
static err_t jwks_get_b64(struct json_object *obj, const char *name, unsigned char **out,
			  size_t *out_len)
{
	struct json_object *v;

	*out = NULL;
	*out_len = 0;
	if (!json_object_object_get_ex(obj, name, &v) || !json_object_is_type(v, json_type_string))
		return ERR_VALIDATION;
	return jwks_b64url_decode(json_object_get_string(v), (size_t)json_object_get_string_len(v),
				  out, out_len);
}

/* key->pem and key->sig_len for key->alg from the JWK's x/y (EC) or n/e (RSA). */
static err_t jwks_key_pem(struct json_object *obj, struct jwks_key *key, const char **why)
{
	int ec = key->alg == JWKS_ES256;
	unsigned char *a = NULL, *b = NULL;
	size_t a_len = 0, b_len = 0;
	err_t rc = jwks_get_b64(obj, ec ? "x" : "n", &a, &a_len);

	if (rc == ERR_OK)
		rc = jwks_get_b64(obj, ec ? "y" : "e", &b, &b_len);
	if (rc == ERR_INTERNAL) {
		*why = "JWKS: out of memory";
		goto out;
	}
	if (rc != ERR_OK) {
		*why = ec ? "JWKS: EC key without valid base64url x/y"
			  : "JWKS: RSA key without valid base64url n/e";
		goto out;
	}
	if (ec) {
		key->sig_len = 64; /* JWS ES256 signature: R || S, 32 bytes each */
		rc = jwks_ec_p256_pem(a, a_len, b, b_len, &key->pem, why);
	} else {
		rc = jwks_rsa_pem(a, a_len, b, b_len, &key->pem, &key->sig_len, why);
	}
out:
	free(a);
	free(b);
	return rc;
}

/* Fills *key from the JWK obj. *kept is 0 when the JWK is skipped (not a key we verify
 * with); key is then left empty, as it is on error. */
static err_t jwks_key_from_jwk(struct json_object *obj, struct jwks_key *key, int *kept,
			       const char **why)
{
	struct jwks_jwk j;
	err_t rc;

	memset(key, 0, sizeof *key);
	*kept = 0;
	rc = jwks_jwk_read(obj, &j, why);
	if (rc != ERR_OK)
		goto out;
	key->alg = jwks_jwk_alg(obj, &j);
	if (!key->alg)
		goto out; /* rc is ERR_OK: skipped */
	rc = jwks_key_pem(obj, key, why);
	if (rc != ERR_OK)
		goto out;
	key->pem_len = strlen(key->pem);
	if (j.kid && !(key->kid = strdup(j.kid))) {
		*why = "JWKS: out of memory";
		rc = ERR_INTERNAL;
		goto out;
	}
	*kept = 1;
out:
	if (!*kept) {
		free(key->pem);
		free(key->kid);
		memset(key, 0, sizeof *key);
	}
	return rc;
}

void jwks_set_free(struct jwks_set *set)
{
	size_t i;

	if (!set)
		return;
	for (i = 0; i < set->count; i++) {
		free(set->keys[i].kid);
		free(set->keys[i].pem);
	}
	free(set->keys);
	set->keys = NULL;
	set->count = 0;
}

/* 1 when the last key of set has the algorithm and kid (or lack of one) of an earlier key:
 * two such keys would make the choice between them arbitrary. */
static int jwks_kid_taken(const struct jwks_set *set)
{
	const struct jwks_key *k = &set->keys[set->count - 1];
	size_t i;

	for (i = 0; i + 1 < set->count; i++) {
		const struct jwks_key *o = &set->keys[i];
		if (o->alg == k->alg &&
		    ((!o->kid && !k->kid) || (o->kid && k->kid && !strcmp(o->kid, k->kid))))
			return 1;
	}
	return 0;
}

err_t jwks_parse(struct jwks_set *set, const char *json, size_t len, const char **why)
{
	struct json_object *root = NULL, *arr;
	size_t i, n;
	int kept;
	err_t rc = ERR_VALIDATION;

	set->keys = NULL;
	set->count = 0;
	if (jwks_json_parse(json, len, &root) == ERR_INTERNAL) {
		*why = "JWKS: out of memory";
		rc = ERR_INTERNAL;
		goto out;
	}
	if (!json_object_is_type(root, json_type_object)) { /* also when root is NULL */
		*why = "JWKS: not a JSON object";
		goto out;
	}
	if (!json_object_object_get_ex(root, "keys", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		*why = "JWKS: no \"keys\" array";
		goto out;
	}
	n = json_object_array_length(arr);
	if (n > JWKS_MAX_KEYS) {
		*why = "JWKS: too many keys";
		goto out;
	}
	set->keys = calloc(n ? n : 1, sizeof *set->keys);
	if (!set->keys) {
		*why = "JWKS: out of memory";
		rc = ERR_INTERNAL;
		goto out;
	}
	for (i = 0; i < n; i++) {
		rc = jwks_key_from_jwk(json_object_array_get_idx(arr, i), &set->keys[set->count],
				       &kept, why);
		if (rc != ERR_OK)
			goto out;
		set->count += (size_t)kept;
		if (kept && jwks_kid_taken(set)) {
			*why = "JWKS: two keys of one algorithm share a kid";
			rc = ERR_VALIDATION;
			goto out;
		}
	}
	rc = ERR_OK;
out:
	json_object_put(root);
	if (rc != ERR_OK)
		jwks_set_free(set);
	return rc;
}

err_t jwks_load(struct jwks_set *set, const char *src, const char **why)
{
	FILE *f = NULL;
	char *buf = NULL;
	size_t n;
	err_t rc = ERR_VALIDATION;

	set->keys = NULL;
	set->count = 0;
	while (src && isspace((unsigned char)*src))
		src++;
	if (!src || *src == '\0')
		return ERR_OK; /* no JWKS configured */
	if (*src == '{')
		return jwks_parse(set, src, strlen(src), why);
	f = fopen(src, "rb");
	if (!f) {
		*why = "JWKS: cannot open file";
		goto out;
	}
	buf = malloc(JWKS_MAX_BYTES + 1); /* one byte more tells a file that is too large */
	if (!buf) {
		*why = "JWKS: out of memory";
		rc = ERR_INTERNAL;
		goto out;
	}
	n = fread(buf, 1, JWKS_MAX_BYTES + 1, f);
	if (ferror(f)) {
		*why = "JWKS: cannot read file";
		goto out;
	}
	if (n > JWKS_MAX_BYTES) {
		*why = "JWKS: file too large";
		goto out;
	}
	rc = jwks_parse(set, buf, n, why);
out:
	if (f)
		fclose(f);
	free(buf);
	return rc;
}

const struct jwks_key *jwks_find(const struct jwks_set *set, enum jwks_alg alg, const char *kid)
{
	const struct jwks_key *found = NULL;
	size_t i, n = 0;

	if (!set)
		return NULL;
	for (i = 0; i < set->count; i++) {
		const struct jwks_key *k = &set->keys[i];

		if (k->alg != alg)
			continue;
		if (kid) {
			if (k->kid && strcmp(k->kid, kid) == 0)
				return k;
		} else {
			found = k;
			n++;
		}
	}
	/* Without a kid only an unambiguous key will do. */
	return (!kid && n == 1) ? found : NULL;
}
