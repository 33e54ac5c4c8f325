"""Parts: POST/GET/PATCH/DELETE /api/parts (api-notes "Parts and installations")."""
import pytest

from flows import DAY, install, maint, new_part, part_of, remove, ride, ts
from flows import check_invariant  # noqa: F401 (fixtures)
from support import (RFC3339_UTC, UUID_RE, assert_error, assert_status, describe, is_number,
                     random_uuid)

PART_TYPES = ["chain", "tires", "brake_pads", "cassette", "derailleur", "crankset", "saddle",
              "handlebar", "pedals", "other"]
MALFORMED_IDS = ["not-a-uuid", "123", "00000000-0000-4000-8000-00000000000g"]

pytestmark = pytest.mark.usefixtures("check_invariant")


# ---- create ----------------------------------------------------------------------------

def test_create_minimal_returns_every_field(user, api):
    r = api.post("/api/parts", json={"name": "  KMC X11  ", "type": "chain"})
    p = assert_status(r, 201)
    assert UUID_RE.match(p["id"]), describe(r)
    for f in ("created_at", "updated_at"):
        assert RFC3339_UTC.match(p[f]), f"{f}: {describe(r)}"
    assert p["user_id"] == user.id
    assert p["name"] == "KMC X11" and p["type"] == "chain"
    for f in ("brand", "model", "purchase_date"):
        assert f in p and p[f] is None, f"{f} should be null: {describe(r)}"
    assert "current_bike_id" in p and p["current_bike_id"] is None, describe(r)
    assert is_number(p["total_kilometrage"]) and p["total_kilometrage"] == 0
    assert p["metadata"] == {}
    assert p["unit"] == "km"


def test_create_full_and_read_back(api):
    body = {"name": "GP5000", "type": "tires", "brand": "Continental", "model": "GP5000 S TR",
            "purchase_date": "2024-02-29", "initial_kilometrage": 321.5,
            "metadata": {"size": "700x28", "replacement_threshold_km": 4000, "nested": {"a": [1]}}}
    p = assert_status(api.post("/api/parts", json=body), 201)
    for k in ("name", "type", "brand", "model", "purchase_date", "metadata"):
        assert p[k] == body[k], k
    assert p["total_kilometrage"] == 321.5
    got = part_of(api, p)
    for k in ("id", "name", "type", "brand", "model", "purchase_date", "metadata",
              "total_kilometrage", "user_id", "created_at", "updated_at", "current_bike_id"):
        assert got[k] == p[k], f"{k}: GET {got[k]!r} != POST {p[k]!r}"
    assert got["unit"] == "km"


@pytest.mark.parametrize("t", PART_TYPES)
def test_create_every_type(api, t):
    assert new_part(api, name=t, type=t)["type"] == t


def test_initial_kilometrage_in_miles_is_stored_in_km(db, api):
    p = new_part(api, initial_kilometrage=10.5, unit="mi")
    assert p["unit"] == "mi" and p["total_kilometrage"] == 10.5, p
    (stored,), = db.query("SELECT total_kilometrage FROM vehicles.user_part WHERE id = %s", (p["id"],))
    assert float(stored) == 16.898
    assert part_of(api, p)["total_kilometrage"] == 16.898


def test_initial_mileage_alias(db, api):
    p = new_part(api, initial_mileage=250)
    assert p["total_kilometrage"] == 250 and p["unit"] == "km"
    q = new_part(api, initial_mileage=500, unit="mi")
    (stored,), = db.query("SELECT total_kilometrage FROM vehicles.user_part WHERE id = %s", (q["id"],))
    assert float(stored) == 804.67
    assert q["unit"] == "mi" and q["total_kilometrage"] == 499.999


def test_replacement_threshold_zero_is_fine(api):
    assert new_part(api, metadata={"replacement_threshold_km": 0})["metadata"] == \
        {"replacement_threshold_km": 0}


@pytest.mark.parametrize("body,field", [
    ({"name": "x", "type": "wheel"}, "type"),
    ({"name": "x", "type": None}, "type"),
    ({"name": "x", "type": 3}, "type"),
    ({"name": "x"}, "type"),
    ({"type": "chain"}, "name"),
    ({"name": "", "type": "chain"}, "name"),
    ({"name": "   ", "type": "chain"}, "name"),
    ({"name": "x" * 101, "type": "chain"}, "name"),
    ({"name": "x", "type": "chain", "brand": "b" * 101}, "brand"),
    ({"name": "x", "type": "chain", "model": "m" * 101}, "model"),
    ({"name": "x", "type": "chain", "purchase_date": "2023-02-30"}, "purchase_date"),
    ({"name": "x", "type": "chain", "purchase_date": "2023-01-01T00:00:00Z"}, "purchase_date"),
    ({"name": "x", "type": "chain", "initial_kilometrage": -1}, "initial_kilometrage"),
    ({"name": "x", "type": "chain", "initial_kilometrage": "5"}, "initial_kilometrage"),
    ({"name": "x", "type": "chain", "initial_kilometrage": 1000000.5}, "initial_kilometrage"),
    ({"name": "x", "type": "chain", "initial_mileage": 621400, "unit": "mi"}, "initial_mileage"),
    ({"name": "x", "type": "chain", "initial_mileage": -2}, "initial_mileage"),
    ({"name": "x", "type": "chain", "unit": "yd"}, "unit"),
    ({"name": "x", "type": "chain", "metadata": [1]}, "metadata"),
    ({"name": "x", "type": "chain", "metadata": "size L"}, "metadata"),
    ({"name": "x", "type": "chain", "metadata": {"a": "x" * 16400}}, "metadata"),
    ({"name": "x", "type": "chain", "metadata": {"replacement_threshold_km": -1}},
     "metadata.replacement_threshold_km"),
    ({"name": "x", "type": "chain", "metadata": {"replacement_threshold_km": "3000"}},
     "metadata.replacement_threshold_km"),
    ({"name": "x", "type": "chain", "metadata": {"replacement_threshold_km": True}},
     "metadata.replacement_threshold_km"),
    ({"name": "x", "type": "chain", "wheels": 2}, "wheels"),
])
def test_create_bad_field_is_400(api, body, field):
    assert_error(api.post("/api/parts", json=body), 400, "validation_error", {field}, exact=True)
    r = api.get("/api/parts")
    assert assert_status(r, 200) == [] and r.headers.get("X-Total-Count") == "0"


def test_create_both_initial_fields_is_400(api):
    assert_error(api.post("/api/parts", json={"name": "x", "type": "chain",
                                              "initial_kilometrage": 1, "initial_mileage": 1}),
                 400, "validation_error", {"initial_mileage"})


@pytest.mark.parametrize("field,value", [
    ("id", "00000000-0000-4000-8000-000000000000"), ("user_id", "00000000-0000-4000-8000-000000000000"),
    ("created_at", "2024-01-01T00:00:00Z"), ("updated_at", "2024-01-01T00:00:00Z"),
    ("total_kilometrage", 5), ("current_bike_id", None),
])
def test_create_read_only_field_is_400(api, field, value):
    assert_error(api.post("/api/parts", json={"name": "x", "type": "chain", field: value}), 400,
                 "validation_error", {field}, exact=True)


def test_create_names_every_bad_field(api):
    body = {"name": "", "type": "wheel", "foo": 1, "initial_kilometrage": -1}
    assert_error(api.post("/api/parts", json=body), 400, "validation_error",
                 {"name", "type", "foo", "initial_kilometrage"}, exact=True)


def test_create_not_an_object_is_400(api):
    assert_error(api.post("/api/parts", json=[1, 2]), 400, "validation_error")
    assert_error(api.post("/api/parts", data=b"{nope", headers={"Content-Type": "application/json"}),
                 400, "validation_error")


# ---- list ------------------------------------------------------------------------------

def test_list_newest_first_paging_and_total(api, other_api):
    made = [new_part(api, name=f"P{i}") for i in range(5)]
    new_part(other_api, name="not mine")
    ids = [p["id"] for p in reversed(made)]
    r = api.get("/api/parts")
    assert [p["id"] for p in assert_status(r, 200)] == ids
    assert r.headers.get("X-Total-Count") == "5", describe(r)
    r = api.get("/api/parts", params={"limit": 2, "offset": 2})
    assert [p["id"] for p in assert_status(r, 200)] == ids[2:4]
    assert r.headers.get("X-Total-Count") == "5"
    r = api.get("/api/parts", params={"offset": 9})
    assert assert_status(r, 200) == [] and r.headers.get("X-Total-Count") == "5"


def test_list_installed_filter(api, create_bike):
    b = create_bike(api)
    on = new_part(api, name="on")
    off = new_part(api, name="off")
    gone = new_part(api, name="was on")
    install(api, b, on)
    install(api, b, gone)
    remove(api, b, gone)
    r = api.get("/api/parts", params={"installed": "true"})
    lst = assert_status(r, 200)
    assert [p["id"] for p in lst] == [on["id"]], describe(r)
    assert lst[0]["current_bike_id"] == b["id"]
    assert r.headers.get("X-Total-Count") == "1"
    r = api.get("/api/parts", params={"installed": "false"})
    lst = assert_status(r, 200)
    assert [p["id"] for p in lst] == [gone["id"], off["id"]], describe(r)
    assert all(p["current_bike_id"] is None for p in lst)
    assert r.headers.get("X-Total-Count") == "2"
    r = api.get("/api/parts")
    assert r.headers.get("X-Total-Count") == "3"


def test_list_in_miles(api):
    new_part(api, initial_kilometrage=16.898)
    lst = assert_status(api.get("/api/parts", params={"unit": "mi"}), 200)
    assert lst[0]["total_kilometrage"] == 10.5 and lst[0]["unit"] == "mi"


@pytest.mark.parametrize("params,field", [
    ({"installed": "yes"}, "installed"), ({"unit": "parsec"}, "unit"),
    ({"limit": "0"}, "limit"), ({"limit": "201"}, "limit"), ({"offset": "-1"}, "offset"),
    ({"limit": "ten"}, "limit"),
])
def test_list_bad_query_is_400(api, params, field):
    assert_error(api.get("/api/parts", params=params), 400, "validation_error", {field})


def test_list_limit_200_is_fine(api):
    new_part(api)
    assert len(assert_status(api.get("/api/parts", params={"limit": 200}), 200)) == 1


# ---- get -------------------------------------------------------------------------------

def test_get_has_empty_installations_and_maintenance(api):
    p = new_part(api)
    got = part_of(api, p)
    assert got["installations"] == [] and got["maintenance"] == [], got


def test_get_installations_newest_first_and_maintenance(api, create_bike):
    x = create_bike(api, name="X")
    y = create_bike(api, name="Y")
    p = new_part(api)
    i1 = install(api, x, p, at=ts(-3 * DAY))
    remove(api, x, p, at=ts(-2 * DAY))
    i2 = install(api, y, p, at=ts(-1 * DAY))
    m = maint(api, "part", p, description="waxed")
    got = part_of(api, p)
    assert [i["id"] for i in got["installations"]] == [i2["id"], i1["id"]]
    assert [i["bike_id"] for i in got["installations"]] == [y["id"], x["id"]]
    assert got["installations"][0]["removed_at"] is None
    assert got["installations"][1]["removed_at"] is not None
    assert got["current_bike_id"] == y["id"]
    assert [r["id"] for r in got["maintenance"]] == [m["id"]]


def test_get_in_miles(api):
    p = new_part(api, initial_kilometrage=16.898)
    got = part_of(api, p, unit="mi")
    assert got["total_kilometrage"] == 10.5 and got["unit"] == "mi"
    assert_error(api.get(f"/api/parts/{p['id']}?unit=m"), 400, "validation_error", {"unit"})


# ---- patch -----------------------------------------------------------------------------

def test_patch_fields_and_metadata_merge(api):
    p = new_part(api, brand="KMC", metadata={"color": "silver", "links": 116, "keep": {"a": 1, "b": 2}})
    r = api.patch(f"/api/parts/{p['id']}", json={
        "name": " X11SL ", "model": "X11", "metadata": {"color": None, "replacement_threshold_km": 3000,
                                                         "keep": {"b": None, "c": 3}}})
    q = assert_status(r, 200)
    assert q["name"] == "X11SL" and q["model"] == "X11" and q["brand"] == "KMC"
    assert q["metadata"] == {"links": 116, "replacement_threshold_km": 3000, "keep": {"a": 1, "c": 3}}
    assert q["created_at"] == p["created_at"] and q["id"] == p["id"]
    assert q["unit"] == "km" and q["current_bike_id"] is None
    assert part_of(api, p)["metadata"] == q["metadata"]


def test_patch_initial_kilometrage_moves_total(api, create_bike):
    b = create_bike(api)
    p = new_part(api, initial_kilometrage=100)
    install(api, b, p)
    ride(api, b, 50)
    q = assert_status(api.patch(f"/api/parts/{p['id']}", json={"initial_kilometrage": 120}), 200)
    assert q["total_kilometrage"] == 170
    q = assert_status(api.patch(f"/api/parts/{p['id']}", json={"initial_mileage": 0}), 200)
    assert q["total_kilometrage"] == 50


@pytest.mark.parametrize("body,field", [
    ({"name": ""}, "name"), ({"type": "wheel"}, "type"), ({"type": None}, "type"),
    ({"metadata": None}, "metadata"), ({"metadata": [1]}, "metadata"),
    ({"metadata": {"replacement_threshold_km": -5}}, "metadata.replacement_threshold_km"),
    ({"metadata": {"replacement_threshold_km": "5"}}, "metadata.replacement_threshold_km"),
    ({"current_bike_id": "00000000-0000-4000-8000-000000000000"}, "current_bike_id"),
    ({"total_kilometrage": 0}, "total_kilometrage"), ({"id": "x"}, "id"), ({"user_id": "x"}, "user_id"),
    ({"created_at": "2024-01-01T00:00:00Z"}, "created_at"), ({"wheels": 2}, "wheels"),
])
def test_patch_bad_field_is_400_and_changes_nothing(api, body, field):
    p = new_part(api, metadata={"replacement_threshold_km": 10})
    assert_error(api.patch(f"/api/parts/{p['id']}", json=body), 400, "validation_error", {field},
                 exact=True)
    got = part_of(api, p)
    for k in ("name", "type", "metadata", "total_kilometrage", "updated_at"):
        assert got[k] == p[k], k


def test_patch_threshold_null_removes_it(api):
    p = new_part(api, metadata={"replacement_threshold_km": 10, "x": 1})
    q = assert_status(api.patch(f"/api/parts/{p['id']}",
                                json={"metadata": {"replacement_threshold_km": None}}), 200)
    assert q["metadata"] == {"x": 1}


def test_patch_other_users_part_is_403_even_with_bad_body(api, other_api):
    p = new_part(other_api)
    assert_error(api.patch(f"/api/parts/{p['id']}", json={"name": "mine"}), 403, "forbidden")
    assert_error(api.patch(f"/api/parts/{p['id']}", json={"name": ""}), 403, "forbidden")
    assert part_of(other_api, p)["name"] == p["name"]


def test_patch_missing_part_is_404_even_with_bad_body(api):
    assert_error(api.patch(f"/api/parts/{random_uuid()}", json={"type": "wheel"}), 404, "not_found")


# ---- ids and ownership -----------------------------------------------------------------

@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_other_users_part_is_403(api, other_api, method):
    p = new_part(other_api)
    kw = {"json": {"name": "x"}} if method == "PATCH" else {}
    assert_error(api.request(method, f"/api/parts/{p['id']}", **kw), 403, "forbidden")
    assert part_of(other_api, p)["name"] == p["name"]


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_missing_part_is_404(api, method):
    kw = {"json": {"name": "x"}} if method == "PATCH" else {}
    assert_error(api.request(method, f"/api/parts/{random_uuid()}", **kw), 404, "not_found")


@pytest.mark.parametrize("bad", MALFORMED_IDS)
@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_malformed_id_is_400(api, method, bad):
    kw = {"json": {"name": ""}} if method == "PATCH" else {}
    assert_error(api.request(method, f"/api/parts/{bad}", **kw), 400, "validation_error", {"id"},
                 exact=True)


def test_no_token_is_401(anon_api):
    assert_error(anon_api.get("/api/parts"), 401, "unauthorized")
    assert_error(anon_api.post("/api/parts", json={"name": "x", "type": "chain"}), 401, "unauthorized")


# ---- delete ----------------------------------------------------------------------------

def test_delete_part_then_404(api):
    p = new_part(api)
    keep = new_part(api, name="keep")
    assert assert_status(api.delete(f"/api/parts/{p['id']}"), 200) == {"success": True, "id": p["id"]}
    assert_error(api.get(f"/api/parts/{p['id']}"), 404, "not_found")
    assert_error(api.delete(f"/api/parts/{p['id']}"), 404, "not_found")
    assert [x["id"] for x in assert_status(api.get("/api/parts"), 200)] == [keep["id"]]


def test_delete_part_removes_history_and_part_only_maintenance(db, api, create_bike):
    b = create_bike(api)
    p = new_part(api)
    install(api, b, p, at=ts(-2 * DAY))
    ride(api, b, 12)
    only_part = maint(api, "part", p, description="part only")
    with_bike = maint(api, "bike", b, description="chain swap", part_id=p["id"])
    bike_only = maint(api, "bike", b, description="bike only")
    assert_status(api.delete(f"/api/parts/{p['id']}"), 200)

    assert db.query("SELECT count(*) FROM vehicles.part_installation WHERE part_id = %s",
                    (p["id"],)) == [(0,)]
    assert db.query("SELECT count(*) FROM vehicles.maintenance_record WHERE id = %s",
                    (only_part["id"],)) == [(0,)]
    # The bike's records stay, the one that named the part now without it.
    recs = assert_status(api.get(f"/api/bikes/{b['id']}/maintenance"), 200)
    by_id = {r["id"]: r for r in recs}
    assert set(by_id) == {with_bike["id"], bike_only["id"]}, recs
    assert by_id[with_bike["id"]]["part_id"] is None
    assert by_id[with_bike["id"]]["bike_id"] == b["id"]
    # The bike keeps its kilometrage, and has no part on it now.
    got = assert_status(api.get(f"/api/bikes/{b['id']}"), 200)
    assert got["total_kilometrage"] == 12 and got["parts"] == []
    assert assert_status(api.get(f"/api/bikes/{b['id']}/parts"), 200) == []
