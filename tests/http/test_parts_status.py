"""GET /api/parts?status=installed|stored|retired (issue 14): the part object's status
filters the list; installed=true|false keeps working, and both given must both hold. A part is
retired here by setting vehicles.user_part.retired_at as the superuser (what the retire route
stores)."""
import pytest

from flows import DAY, install, new_bike, new_part, remove, ts
from support import assert_error, assert_status, describe


def _retire(db, part):
    db.execute("UPDATE vehicles.user_part SET retired_at = now() - interval '1 hour'"
               " WHERE id = %s", (part["id"],))


def _list(api, **params):
    r = api.get("/api/parts", params=params)
    got = assert_status(r, 200)
    assert r.headers.get("X-Total-Count") == str(len(got)), describe(r)
    return [p["id"] for p in got]


@pytest.fixture
def parts(db, api):
    """One part of each kind: on a bike, never installed, taken off, retired (after a
    removal), and a retired one that was never installed. Newest first, as listed."""
    b = new_bike(api)
    on = new_part(api, name="on")
    never = new_part(api, name="never")
    off = new_part(api, name="off")
    old = new_part(api, name="old")
    shelf = new_part(api, name="retired unused")
    install(api, b, on, at=ts(-3 * DAY))
    install(api, b, off, at=ts(-3 * DAY))
    remove(api, b, off, at=ts(-2 * DAY))
    install(api, b, old, at=ts(-3 * DAY))
    remove(api, b, old, at=ts(-2 * DAY))
    _retire(db, old)
    _retire(db, shelf)
    return {"on": on["id"], "never": never["id"], "off": off["id"], "old": old["id"],
            "shelf": shelf["id"]}


@pytest.mark.parametrize("status,names", [
    ("installed", ["on"]),
    ("stored", ["off", "never"]),
    ("retired", ["shelf", "old"]),
])
def test_status_filter(api, parts, status, names):
    assert _list(api, status=status) == [parts[n] for n in names]


def test_status_filter_pages_with_its_own_total(api, parts):
    r = api.get("/api/parts", params={"status": "stored", "limit": 1})
    assert [p["id"] for p in assert_status(r, 200)] == [parts["off"]]
    assert r.headers.get("X-Total-Count") == "2", describe(r)
    r = api.get("/api/parts", params={"status": "stored", "limit": 1, "offset": 1})
    assert [p["id"] for p in assert_status(r, 200)] == [parts["never"]]
    assert r.headers.get("X-Total-Count") == "2", describe(r)


@pytest.mark.parametrize("installed,status,names", [
    ("true", "stored", []),
    ("true", "retired", []),
    ("false", "installed", []),
    ("false", "stored", ["off", "never"]),
    ("false", "retired", ["shelf", "old"]),
])
def test_status_and_installed_both_hold(api, parts, installed, status, names):
    assert _list(api, installed=installed, status=status) == [parts[n] for n in names]
    # Each filter alone, asked after the pair (another cache key each).
    alone = {"true": ["on"], "false": ["shelf", "old", "off", "never"]}[installed]
    assert _list(api, installed=installed) == [parts[n] for n in alone]
    assert len(_list(api)) == 5


def test_status_filter_follows_changes(db, api, parts):
    """Each answer is the list as it is now, also when the same query was asked before."""
    assert _list(api, status="stored") == [parts["off"], parts["never"]]
    b = new_bike(api, name="second")
    install(api, b, parts["never"])
    assert _list(api, status="stored") == [parts["off"]]
    assert _list(api, status="installed") == [parts["never"], parts["on"]]
    db.execute("UPDATE vehicles.user_part SET retired_at = NULL WHERE id = %s", (parts["shelf"],))
    assert _list(api, status="retired") == [parts["old"]]
    assert _list(api, status="stored") == [parts["shelf"], parts["off"]]


def test_status_filter_sees_only_the_callers_parts(api, other_api, parts):
    new_part(other_api, name="theirs")
    assert _list(other_api, status="stored") != []
    assert parts["never"] in _list(api, status="stored")
    assert len(_list(api, status="stored")) == 2


@pytest.mark.parametrize("value", ["", "bogus", "Installed", "INSTALLED", "installed,stored",
                                   " stored", "retired ", "active", "null", "1"])
def test_status_filter_bad_value_is_400(api, value):
    r = api.get("/api/parts", params={"status": value})
    body = assert_error(r, 400, "validation_error", {"status"}, exact=True)
    assert body["details"]["status"] == "must be one of: installed, stored, retired"


def test_status_filter_bad_value_with_installed(api):
    r = api.get("/api/parts", params={"status": "gone", "installed": "true"})
    assert_error(r, 400, "validation_error", {"status"})
