"""Token checks on /api routes: 401 for anything that is not a valid user token, 403 for a
valid token of another role."""
import time

import pytest

from support import (assert_error, assert_status, claims_for, mint, mint_unsigned,
                     random_uuid)


def _bad_tokens(uid):
    now = int(time.time())
    return {
        "garbage": "garbage",
        "three_garbage_segments": "abc.def.ghi",
        "expired": mint(claims_for(uid, exp=now - 120, iat=now - 3720)),
        "no_exp": mint(claims_for(uid, exp=None)),
        "wrong_secret": mint(claims_for(uid), secret="another-secret-that-is-also-32-chars-long!!"),
        "alg_none": mint_unsigned(claims_for(uid)),
        "hs512_same_secret": mint(claims_for(uid), algorithm="HS512"),
        "hs384_same_secret": mint(claims_for(uid), algorithm="HS384"),
        "wrong_aud": mint(claims_for(uid, aud="somebody-else")),
        "no_aud": mint(claims_for(uid, aud=None)),
        "non_uuid_sub": mint(claims_for("user-123")),
        "no_sub": mint({k: v for k, v in claims_for(uid).items() if k != "sub"}),
        "not_yet_valid": mint(claims_for(uid, nbf=now + 600)),
        "tampered_payload": _tamper(mint(claims_for(uid)), claims_for(random_uuid())),
    }


def _tamper(token, claims):
    # A valid header and signature with another payload.
    import json
    from support import b64url
    h, _, s = token.split(".")
    return f"{h}.{b64url(json.dumps(claims))}.{s}"


BAD = list(_bad_tokens(random_uuid()).keys())


def test_no_token_is_401(anon_api):
    assert_error(anon_api.get("/api/bikes"), 401, "unauthorized")


@pytest.mark.parametrize("kind", BAD)
def test_bad_token_is_401(client, user, kind):
    token = _bad_tokens(user.id)[kind]
    assert_error(client(token).get("/api/bikes"), 401, "unauthorized")


def test_bad_token_on_write_is_401_not_400(client, user):
    # Token first: a bad token with a bad body is still 401.
    c = client(mint(claims_for(user.id), secret="another-secret-that-is-also-32-chars-long!!"))
    assert_error(c.post("/api/bikes", json={"nope": 1}), 401, "unauthorized")


def test_non_bearer_scheme_is_401(client, user):
    c = client()
    r = c.get("/api/bikes", headers={"Authorization": f"Basic {user.token}"})
    assert_error(r, 401, "unauthorized")


def test_missing_token_beats_malformed_id(anon_api):
    # Checks run token first, then the id's form: no token + malformed id -> 401.
    assert_error(anon_api.get("/api/bikes/not-a-uuid"), 401, "unauthorized")


def test_valid_token_is_accepted(user):
    r = user.api.get("/api/bikes")
    assert assert_status(r, 200) == []


@pytest.mark.parametrize("role", ["service_role", "anon"])
def test_other_role_on_user_route_is_403(client, role):
    now = int(time.time())
    # As Supabase issues them: no sub, no aud "authenticated".
    token = mint({"iss": "supabase-demo", "role": role, "iat": now, "exp": now + 3600})
    assert_error(client(token).get("/api/bikes"), 403, "forbidden")


def test_service_role_with_uuid_sub_still_403(client, user):
    token = mint(claims_for(user.id, role="service_role"))
    assert_error(client(token).get("/api/bikes"), 403, "forbidden")
