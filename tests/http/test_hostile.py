"""Hostile inputs: never a 500, always a JSON 4xx in the API's error shape."""
import pytest

from support import assert_error, assert_no_leak, assert_status, describe, json_body, random_uuid

JSON = {"Content-Type": "application/json"}

# (case, raw body) -> 400 validation_error
BAD_BODIES = [
    ("deep_arrays_10000", b"[" * 10000 + b"]" * 10000),
    ("deep_objects_10000", b'{"a":' * 10000 + b"1" + b"}" * 10000),
    ("deep_metadata_10000", b'{"name":"x","type":"road","metadata":' + b'{"a":' * 10000 + b"1"
     + b"}" * 10001),
    ("invalid_utf8_in_name", b'{"name":"\xff\xfe","type":"road"}'),
    ("invalid_utf8_in_key", b'{"na\xc3me":"x","type":"road"}'),
    ("overlong_utf8", b'{"name":"\xc0\xaf","type":"road"}'),
    ("utf16_surrogate_bytes", b'{"name":"\xed\xa0\x80","type":"road"}'),
    ("huge_number", b'{"name":"x","type":"road","initial_kilometrage":1e400}'),
    ("huge_negative_number", b'{"name":"x","type":"road","initial_kilometrage":-1e400}'),
    ("huge_integer", b'{"name":"x","type":"road","initial_kilometrage":' + b"9" * 400 + b"}"),
    ("nan_literal", b'{"name":"x","type":"road","initial_kilometrage":NaN}'),
    ("infinity_literal", b'{"name":"x","type":"road","initial_kilometrage":Infinity}'),
    ("empty_object", b"{}"),
    ("null_required", b'{"name":null,"type":null}'),
    ("duplicate_keys", b'{"name":"a","name":"b","type":"road"}'),
    ("duplicate_type", b'{"name":"a","type":"road","type":"gravel"}'),
    ("nul_in_name", b'{"name":"a\\u0000b","type":"road"}'),
    ("raw_nul_byte", b'{"name":"a\x00b","type":"road"}'),
    ("single_quotes", b"{'name':'x','type':'road'}"),
    ("trailing_comma", b'{"name":"x","type":"road",}'),
    ("comment", b'{"name":"x", /* hi */ "type":"road"}'),
    ("control_char_in_string", b'{"name":"a\x01b","type":"road"}'),
]


@pytest.mark.parametrize("case,raw", BAD_BODIES, ids=[c for c, _ in BAD_BODIES])
def test_hostile_create_body_is_400(api, case, raw):
    r = api.post("/api/bikes", data=raw, headers=JSON)
    assert_error(r, 400, "validation_error")
    assert assert_status(api.get("/api/bikes"), 200) == [], "a hostile body created a bike"


@pytest.mark.parametrize("case,raw", [
    ("deep_arrays_10000", b"[" * 10000 + b"]" * 10000),
    ("invalid_utf8", b'{"name":"\xff"}'),
    ("huge_number", b'{"initial_kilometrage":1e400}'),
    ("duplicate_keys", b'{"name":"a","name":"b"}'),
    ("nul_in_metadata", b'{"metadata":{"k":"a\\u0000b"}}'),
])
def test_hostile_patch_body_is_400(api, create_bike, case, raw):
    b = create_bike(api)
    assert_error(api.patch(f"/api/bikes/{b['id']}", data=raw, headers=JSON), 400, "validation_error")
    got = assert_status(api.get(f"/api/bikes/{b['id']}"), 200)
    assert got["name"] == b["name"] and got["total_kilometrage"] == b["total_kilometrage"]


# Bodies whose right answer is either 201 or 400: what matters is no 5xx and a JSON answer.
ODD_BUT_MAYBE_VALID = [
    ("metadata_nul_escape", b'{"name":"x","type":"road","metadata":{"k":"a\\u0000b"}}'),
    ("metadata_nul_key", b'{"name":"x","type":"road","metadata":{"a\\u0000":1}}'),
    ("metadata_huge_number", b'{"name":"x","type":"road","metadata":{"n":1e400}}'),
    ("metadata_tiny_number", b'{"name":"x","type":"road","metadata":{"n":1e-400}}'),
    ("metadata_big_int", b'{"name":"x","type":"road","metadata":{"n":' + b"9" * 300 + b"}}"),
    ("bom_prefix", b'\xef\xbb\xbf{"name":"x","type":"road"}'),
    ("lone_surrogate_escape", b'{"name":"\\ud800","type":"road"}'),
    ("tiny_initial", b'{"name":"x","type":"road","initial_kilometrage":1e-400}'),
    ("negative_zero", b'{"name":"x","type":"road","initial_kilometrage":-0}'),
    ("many_keys_metadata", b'{"name":"x","type":"road","metadata":{'
     + b",".join(b'"k%d":%d' % (i, i) for i in range(2000)) + b"}}"),
    ("escaped_unicode_name", b'{"name":"\\u00e9\\ud83d\\udeb2","type":"road"}'),
    ("rtl_and_zero_width", '{"name":"\u202ebike\u200b","type":"road"}'.encode()),
]


@pytest.mark.parametrize("case,raw", ODD_BUT_MAYBE_VALID, ids=[c for c, _ in ODD_BUT_MAYBE_VALID])
def test_odd_body_never_5xx(api, case, raw):
    r = api.post("/api/bikes", data=raw, headers=JSON)
    assert r.status_code in (201, 400), f"expected 201 or 400: {describe(r)}"
    body = json_body(r)
    assert_no_leak(r)
    if r.status_code == 400:
        assert body.get("error") == "validation_error", describe(r)
    else:
        # What was accepted reads back the same.
        got = assert_status(api.get(f"/api/bikes/{body['id']}"), 200)
        assert got["metadata"] == body["metadata"] and got["name"] == body["name"]


@pytest.mark.parametrize("query", [
    "limit=99999999999999999999999", "offset=99999999999999999999999", "limit=1e2",
    "limit=%00", "unit=%00km", "unit=km%00", "unit=%ff%fe",
    "include_parts=%ff",
])
def test_hostile_query_is_400(api, query):
    assert_error(api.get(f"/api/bikes?{query}"), 400, "validation_error")


@pytest.mark.parametrize("path", [
    # (%00 in a path is refused by nginx itself: see test_nginx.py)
    "/api/bikes/%ff%fe", "/api/bikes/" + "a" * 2000, "/api/bikes/'%20OR%201=1--",
    "/api/bikes/00000000-0000-4000-8000-000000000000%20",
])
def test_hostile_path_is_4xx_json(api, path):
    r = api.get(path)
    assert 400 <= r.status_code < 500, describe(r)
    body = json_body(r)
    assert body.get("error") in ("validation_error", "not_found"), describe(r)
    assert_no_leak(r)


def test_token_of_unknown_user_is_never_5xx(client):
    # A well-signed token whose user is not in auth.users (deleted account).
    from support import user_token
    c = client(user_token(random_uuid()))
    r = c.get("/api/bikes")
    assert r.status_code in (200, 401, 403), describe(r)
    json_body(r)
    r = c.post("/api/bikes", json={"name": "ghost", "type": "road"})
    assert 400 <= r.status_code < 500, f"creating a bike for a user who does not exist: {describe(r)}"
    json_body(r)
    assert_no_leak(r)


def test_huge_header_token_is_4xx(client):
    r = client("a" * 6000 + "." + "b" * 100 + "." + "c" * 100).get("/api/bikes")
    assert r.status_code in (400, 401, 431, 494), describe(r)


# ---- numbers, keys and query strings the parser must not take loosely -------------------

@pytest.mark.parametrize("number", ["123456789012345678901234567890", "1e20", "1e99999",
                                    "1e-9999", "0e-9999", "-9.5e18"])
def test_number_that_would_not_survive_storage_is_400(api, number):
    # A number the database would store as a different value is refused, not changed; so is
    # one it would store much larger (1e-9999 is 10,000 characters as jsonb writes it).
    raw = '{"name":"n","type":"road","metadata":{"x":%s}}' % number
    r = api.post("/api/bikes", data=raw, headers=JSON)
    assert_error(r, 400, "validation_error")


def test_duplicate_key_spelled_with_an_escape_is_400(api):
    # "n\u0061me" is "name": the duplicate is found after unescaping.
    raw = '{"name":"a","n\\u0061me":"b","type":"road"}'
    r = api.post("/api/bikes", data=raw, headers=JSON)
    assert_error(r, 400, "validation_error")


def test_too_many_query_parameters_is_400_not_ignored(api):
    # 16 parameters fill the parser; the 17th (a real one) must not be silently dropped.
    params = [(f"junk{i}", "1") for i in range(16)] + [("unit", "mi")]
    assert_error(api.get("/api/bikes", params=params), 400, "validation_error", {"query"})
