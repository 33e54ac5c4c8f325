/* Status, code and default message of each err_t, in one table so they cannot drift. */
#include "err.h"

static const struct {
	int status;
	const char *code;
	const char *message;
} err_table[ERR__COUNT] = {
	[ERR_OK] = {200, "ok", "OK"},
	[ERR_VALIDATION] = {400, "validation_error", "Invalid input"},
	[ERR_UNAUTHORIZED] = {401, "unauthorized", "Authentication required"},
	[ERR_FORBIDDEN] = {403, "forbidden", "You do not have permission to access this resource"},
	[ERR_NOT_FOUND] = {404, "not_found", "Resource not found"},
	[ERR_METHOD] = {405, "method_not_allowed", "Method not allowed"},
	[ERR_CONFLICT] = {409, "conflict", "Operation conflicts with current state"},
	[ERR_TOO_LARGE] = {413, "payload_too_large", "Request body too large"},
	[ERR_MEDIA_TYPE] = {415, "unsupported_media_type", "Content-Type must be application/json"},
	[ERR_RATE_LIMITED] = {429, "rate_limited", "Too many requests"},
	[ERR_INTERNAL] = {500, "internal_error", "An unexpected error occurred"},
	[ERR_UNAVAILABLE] = {503, "unavailable", "Service temporarily unavailable"},
};

static err_t err_clamp(err_t e)
{
	return (e >= 0 && e < ERR__COUNT) ? e : ERR_INTERNAL;
}

int err_status(err_t e) { return err_table[err_clamp(e)].status; }
const char *err_code(err_t e) { return err_table[err_clamp(e)].code; }
const char *err_message(err_t e) { return err_table[err_clamp(e)].message; }
