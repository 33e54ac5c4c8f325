/* JWKS -> PEM public keys (see jwks.h). OpenSSL 3 provider APIs only: the deprecated
 * RSA_ / EC_KEY_ setters would warn under OpenSSL 3. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* strdup, strncasecmp */
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

static int b64url_val(unsigned char c)
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
		last = b64url_val((unsigned char)in[i]);
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
		acc = ((acc << 6) | (unsigned int)b64url_val((unsigned char)in[i])) & 0xffffffu;
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

struct json_object *jwks_json_parse(const char *text, size_t len)
{
	struct json_tokener *tok;
	struct json_object *obj;
	size_t end;

	if (!text || len > INT_MAX)
		return NULL;
	tok = json_tokener_new();
	if (!tok)
		return NULL;
	/* Strict: the same text must mean the same thing to us and to libjwt's jansson. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS |
					  JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	if (!obj || json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(obj);
		json_tokener_free(tok);
		return NULL;
	}
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	/* One value only: anything but blanks after it is an error. */
	for (; end < len; end++) {
		if (!strchr(" \t\r\n", text[end]) || text[end] == '\0') {
			json_object_put(obj);
			return NULL;
		}
	}
	return obj;
}

/* ---- OpenSSL key building ---- */

static char *pkey_to_pem(EVP_PKEY *pkey)
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
static EVP_PKEY *pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld)
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
static int pkey_public_ok(EVP_PKEY *pkey)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	int ok = ctx && EVP_PKEY_public_check(ctx) == 1;

	EVP_PKEY_CTX_free(ctx);
	return ok;
}

char *jwks_ec_p256_pem(const unsigned char *x, size_t x_len, const unsigned char *y,
		       size_t y_len, const char **why)
{
	unsigned char pt[65];
	OSSL_PARAM_BLD *bld;
	EVP_PKEY *pkey = NULL;
	char *pem = NULL;

	/* RFC 7518 6.2.1.2: coordinates are the full 32 bytes, never shortened. */
	if (x_len != 32 || y_len != 32) {
		*why = "JWKS: EC key x and y must be 32 bytes";
		return NULL;
	}
	pt[0] = 0x04; /* uncompressed point */
	memcpy(pt + 1, x, 32);
	memcpy(pt + 33, y, 32);
	bld = OSSL_PARAM_BLD_new();
	if (bld &&
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, SN_X9_62_prime256v1, 0) &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt))
		pkey = pkey_fromdata("EC", bld);
	OSSL_PARAM_BLD_free(bld);
	if (!pkey || !pkey_public_ok(pkey))
		*why = "JWKS: EC key is not a valid P-256 point";
	else if (!(pem = pkey_to_pem(pkey)))
		*why = "JWKS: cannot write EC key as PEM";
	EVP_PKEY_free(pkey);
	ERR_clear_error(); /* leave no stale OpenSSL errors for unrelated callers */
	return pem;
}

char *jwks_rsa_pem(const unsigned char *n, size_t n_len, const unsigned char *e, size_t e_len,
		   size_t *sig_len, const char **why)
{
	BIGNUM *bn_n = NULL, *bn_e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY *pkey = NULL;
	char *pem = NULL;
	int bits;

	*sig_len = 0;
	if (n_len > INT_MAX || e_len > INT_MAX) {
		*why = "JWKS: RSA key too large";
		return NULL;
	}
	bn_n = BN_bin2bn(n, (int)n_len, NULL);
	bn_e = BN_bin2bn(e, (int)e_len, NULL);
	if (!bn_n || !bn_e) {
		*why = "JWKS: out of memory";
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
		pkey = pkey_fromdata("RSA", bld);
	if (!pkey || !pkey_public_ok(pkey)) {
		*why = "JWKS: RSA key rejected by OpenSSL";
		goto out;
	}
	if (!(pem = pkey_to_pem(pkey))) {
		*why = "JWKS: cannot write RSA key as PEM";
		goto out;
	}
	*sig_len = (size_t)(bits + 7) / 8;
out:
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_free(pkey);
	BN_free(bn_n);
	BN_free(bn_e);
	ERR_clear_error();
	return pem;
}

/* ---- JWK -> key ---- */

/* The member name of obj as a string, NULL when absent; *bad set when present but not a
 * string. */
static const char *get_str(struct json_object *obj, const char *name, int *bad)
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

/* Decodes base64url member name of jwk; ERR_VALIDATION when missing or malformed. */
static err_t get_b64(struct json_object *jwk, const char *name, unsigned char **out,
		     size_t *out_len)
{
	struct json_object *v;

	*out = NULL;
	*out_len = 0;
	if (!json_object_object_get_ex(jwk, name, &v) || !json_object_is_type(v, json_type_string))
		return ERR_VALIDATION;
	return jwks_b64url_decode(json_object_get_string(v), (size_t)json_object_get_string_len(v),
				  out, out_len);
}

/* 1 when key_ops is absent or lists "verify" (a key restricted to other uses is skipped). */
static int ops_allow_verify(struct json_object *jwk)
{
	struct json_object *ops;
	size_t i, n;

	if (!json_object_object_get_ex(jwk, "key_ops", &ops))
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

/* Fills *key from jwk. Returns 1 when kept, 0 when skipped (not a key we verify with),
 * -1 on error with *why set. */
static int jwk_to_key(struct json_object *jwk, struct jwks_key *key, const char **why)
{
	unsigned char *a = NULL, *b = NULL;
	size_t a_len = 0, b_len = 0;
	const char *kty, *alg, *use, *kid, *crv;
	int bad = 0, ret = -1;

	memset(key, 0, sizeof *key);
	if (!json_object_is_type(jwk, json_type_object)) {
		*why = "JWKS: a key is not a JSON object";
		return -1;
	}
	kty = get_str(jwk, "kty", &bad);
	alg = get_str(jwk, "alg", &bad);
	use = get_str(jwk, "use", &bad);
	kid = get_str(jwk, "kid", &bad);
	crv = get_str(jwk, "crv", &bad);
	if (bad || !kty) {
		*why = "JWKS: a key has no kty or a non-string kty/alg/use/kid/crv";
		return -1;
	}
	if (kid && (kid[0] == '\0' || strlen(kid) > JWKS_MAX_KID)) {
		*why = "JWKS: a key has an empty or overlong kid";
		return -1;
	}
	/* Keys for encryption or for other algorithms are not ours to verify with. */
	if ((use && strcmp(use, "sig") != 0) || !ops_allow_verify(jwk))
		return 0;

	if (strcmp(kty, "EC") == 0) {
		if (!crv || strcmp(crv, "P-256") != 0 || (alg && strcmp(alg, "ES256") != 0))
			return 0;
		if (get_b64(jwk, "x", &a, &a_len) != ERR_OK ||
		    get_b64(jwk, "y", &b, &b_len) != ERR_OK) {
			*why = "JWKS: EC key without valid base64url x/y";
			goto out;
		}
		key->alg = JWKS_ES256;
		key->sig_len = 64; /* JWS ES256 signature: R || S, 32 bytes each */
		key->pem = jwks_ec_p256_pem(a, a_len, b, b_len, why);
	} else if (strcmp(kty, "RSA") == 0) {
		if (alg && strcmp(alg, "RS256") != 0)
			return 0;
		if (get_b64(jwk, "n", &a, &a_len) != ERR_OK ||
		    get_b64(jwk, "e", &b, &b_len) != ERR_OK) {
			*why = "JWKS: RSA key without valid base64url n/e";
			goto out;
		}
		key->alg = JWKS_RS256;
		key->pem = jwks_rsa_pem(a, a_len, b, b_len, &key->sig_len, why);
	} else {
		return 0; /* oct, OKP, ...: not accepted */
	}
	if (!key->pem)
		goto out;
	key->pem_len = strlen(key->pem);
	if (kid && !(key->kid = strdup(kid))) {
		*why = "JWKS: out of memory";
		goto out;
	}
	ret = 1;
out:
	free(a);
	free(b);
	if (ret != 1) {
		free(key->pem);
		free(key->kid);
		memset(key, 0, sizeof *key);
	}
	return ret;
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

err_t jwks_parse(struct jwks_set *set, const char *json, size_t len, const char **why)
{
	struct json_object *root, *arr;
	size_t i, j, n;
	err_t e = ERR_VALIDATION;

	set->keys = NULL;
	set->count = 0;
	root = jwks_json_parse(json, len);
	if (!root || !json_object_is_type(root, json_type_object)) {
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
		e = ERR_INTERNAL;
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct jwks_key *k = &set->keys[set->count];
		int r = jwk_to_key(json_object_array_get_idx(arr, i), k, why);

		if (r < 0)
			goto out;
		if (r == 0)
			continue;
		set->count++;
		/* Two keys of one algorithm with one kid would make the choice arbitrary. */
		for (j = 0; j + 1 < set->count; j++) {
			const struct jwks_key *o = &set->keys[j];
			if (o->alg == k->alg &&
			    ((!o->kid && !k->kid) || (o->kid && k->kid && !strcmp(o->kid, k->kid)))) {
				*why = "JWKS: two keys of one algorithm share a kid";
				goto out;
			}
		}
	}
	e = ERR_OK;
out:
	json_object_put(root);
	if (e != ERR_OK)
		jwks_set_free(set);
	return e;
}

err_t jwks_load(struct jwks_set *set, const char *src, const char **why)
{
	FILE *f;
	char *buf;
	size_t n;
	err_t e;

	set->keys = NULL;
	set->count = 0;
	if (!src)
		return ERR_OK;
	while (isspace((unsigned char)*src))
		src++;
	if (*src == '\0')
		return ERR_OK;
	if (*src == '{')
		return jwks_parse(set, src, strlen(src), why);

	f = fopen(src, "rb");
	if (!f) {
		*why = "JWKS: cannot open file";
		return ERR_VALIDATION;
	}
	buf = malloc(JWKS_MAX_BYTES + 1);
	if (!buf) {
		fclose(f);
		*why = "JWKS: out of memory";
		return ERR_INTERNAL;
	}
	n = fread(buf, 1, JWKS_MAX_BYTES + 1, f);
	if (ferror(f)) {
		*why = "JWKS: cannot read file";
		e = ERR_VALIDATION;
	} else if (n > JWKS_MAX_BYTES) {
		*why = "JWKS: file too large";
		e = ERR_VALIDATION;
	} else {
		e = jwks_parse(set, buf, n, why);
	}
	fclose(f);
	free(buf);
	return e;
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
