/* One error enum for the whole service: every fallible function returns it. */
#ifndef VS_ERR_H
#define VS_ERR_H

#define WUR __attribute__((warn_unused_result))

typedef enum err {
	ERR_OK = 0,
	ERR_VALIDATION,   /* 400 validation_error */
	ERR_UNAUTHORIZED, /* 401 unauthorized */
	ERR_FORBIDDEN,    /* 403 forbidden */
	ERR_NOT_FOUND,    /* 404 not_found */
	ERR_METHOD,       /* 405 method_not_allowed */
	ERR_CONFLICT,     /* 409 conflict */
	ERR_TOO_LARGE,    /* 413 payload_too_large */
	ERR_MEDIA_TYPE,   /* 415 unsupported_media_type */
	ERR_RATE_LIMITED, /* 429 rate_limited */
	ERR_INTERNAL,     /* 500 internal_error */
	ERR_UNAVAILABLE,  /* 503 unavailable: database unreachable */
	ERR__COUNT
} err_t;

int err_status(err_t e);
const char *err_code(err_t e);
/* Default human text for e; handlers may give a more specific one. */
const char *err_message(err_t e);

#endif
