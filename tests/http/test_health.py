"""Health checks and the router's own answers: 404 for unknown paths, 405 with Allow."""
import pytest

from support import assert_error, assert_status, describe, random_uuid


def test_health_live_needs_no_token(anon_api):
    r = anon_api.get("/health")
    assert assert_status(r, 200) == {"status": "ok"}


def test_health_ready_when_database_answers(anon_api):
    body = assert_status(anon_api.get("/health/ready"), 200)
    assert isinstance(body, dict) and body.get("status") == "ok", describe(anon_api.get("/health/ready"))


def test_health_ignores_a_bad_token(client):
    # Health routes take no token, so a broken one does not turn them into 401.
    r = client("not.a.token").get("/health")
    assert assert_status(r, 200) == {"status": "ok"}


@pytest.mark.parametrize("path", ["/api/nope", "/api/bikes/%s/nope" % "00000000-0000-4000-8000-000000000000",
                                  "/nope", "/api"])
def test_unknown_path_is_404_json(api, path):
    assert_error(api.get(path), 404, "not_found")


def test_unknown_path_without_token_is_404_json(anon_api):
    assert_error(anon_api.get("/definitely/not/here"), 404, "not_found")


def _allow(resp):
    return {m.strip().upper() for m in resp.headers.get("Allow", "").split(",") if m.strip()}


@pytest.mark.parametrize("method,path,allowed", [
    ("PUT", "/api/bikes", {"GET", "POST"}),
    ("DELETE", "/api/bikes", {"GET", "POST"}),
    ("POST", "/api/bikes/active", {"GET"}),
    ("PUT", "/api/bikes/{id}", {"GET", "PATCH", "DELETE"}),
    ("POST", "/api/bikes/{id}", {"GET", "PATCH", "DELETE"}),
    ("GET", "/api/bikes/{id}/set-active", {"POST"}),
    ("GET", "/api/bikes/{id}/deactivate", {"POST"}),
    ("POST", "/health", {"GET"}),
])
def test_wrong_method_is_405_with_allow(api, method, path, allowed):
    r = api.request(method, path.format(id=random_uuid()), json={})
    assert_error(r, 405, "method_not_allowed")
    got = _allow(r)
    # HEAD/OPTIONS may be listed too; the route's own methods must all be, and no others.
    assert allowed <= got, f"Allow {r.headers.get('Allow')!r} lacks {sorted(allowed - got)}: {describe(r)}"
    assert got - allowed <= {"HEAD", "OPTIONS"}, f"Allow lists extra methods: {describe(r)} Allow={r.headers.get('Allow')!r}"
