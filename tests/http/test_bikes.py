"""GET / PATCH / DELETE /api/bikes/:id."""
import time

import pytest

from support import (RFC3339_UTC, assert_error, assert_status, describe, parse_ts, random_uuid)

MALFORMED_IDS = ["not-a-uuid", "123", "00000000-0000-4000-8000-00000000000g",
                 "00000000000040008000000000000000", "00000000-0000-4000-8000-0000000000000"]


# ---- GET -------------------------------------------------------------------------------

def test_get_has_parts_and_recent_maintenance(api, create_bike):
    b = create_bike(api)
    got = assert_status(api.get(f"/api/bikes/{b['id']}"), 200)
    assert got["parts"] == []
    assert got["recent_maintenance"] == []
    assert got["id"] == b["id"] and got["unit"] == "km"


def test_get_other_users_bike_is_403(api, other_api, create_bike):
    b = create_bike(other_api)
    assert_error(api.get(f"/api/bikes/{b['id']}"), 403, "forbidden")


def test_get_missing_bike_is_404(api):
    assert_error(api.get(f"/api/bikes/{random_uuid()}"), 404, "not_found")


@pytest.mark.parametrize("bad", MALFORMED_IDS)
def test_get_malformed_id_is_400_with_details_id(api, bad):
    assert_error(api.get(f"/api/bikes/{bad}"), 400, "validation_error", {"id"}, exact=True)


def test_get_bad_unit_is_400(api, create_bike):
    b = create_bike(api)
    assert_error(api.get(f"/api/bikes/{b['id']}?unit=furlong"), 400, "validation_error", {"unit"})


def test_get_malformed_id_beats_ownership(api):
    # Order: the id's form (400) before existence (404).
    assert_error(api.get("/api/bikes/zzz"), 400, "validation_error", {"id"})


# ---- PATCH -----------------------------------------------------------------------------

def test_patch_partial_update_keeps_other_fields(api, create_bike):
    b = create_bike(api, brand="Trek", model="Domane", purchase_date="2022-05-01",
                    metadata={"color": "blue"})
    r = api.patch(f"/api/bikes/{b['id']}", json={"model": "Emonda", "type": "gravel"})
    p = assert_status(r, 200)
    assert p["model"] == "Emonda" and p["type"] == "gravel"
    for k in ("name", "brand", "purchase_date", "metadata", "total_kilometrage", "id",
              "user_id", "created_at", "is_active"):
        assert p[k] == b[k], f"{k} changed: {describe(r)}"
    assert p["unit"] == "km"
    got = assert_status(api.get(f"/api/bikes/{b['id']}"), 200)
    assert got["model"] == "Emonda" and got["type"] == "gravel" and got["brand"] == "Trek"


def test_patch_trims_name(api, create_bike):
    b = create_bike(api)
    assert assert_status(api.patch(f"/api/bikes/{b['id']}", json={"name": "  New name "}), 200)["name"] == "New name"


def test_patch_null_clears_optional_fields(api, create_bike):
    b = create_bike(api, brand="Trek", model="Domane", purchase_date="2022-05-01")
    p = assert_status(api.patch(f"/api/bikes/{b['id']}",
                                json={"brand": None, "model": None, "purchase_date": None}), 200)
    assert p["brand"] is None and p["model"] is None and p["purchase_date"] is None
    got = assert_status(api.get(f"/api/bikes/{b['id']}"), 200)
    assert got["brand"] is None and got["model"] is None and got["purchase_date"] is None


def test_patch_metadata_is_a_merge_patch(api, create_bike):
    b = create_bike(api, metadata={"color": "red", "weight": 9, "keep": {"a": 1, "b": 2}})
    p = assert_status(api.patch(f"/api/bikes/{b['id']}",
                                json={"metadata": {"color": None, "size": "M",
                                                   "keep": {"b": None, "c": 3}}}), 200)
    assert p["metadata"] == {"weight": 9, "size": "M", "keep": {"a": 1, "c": 3}}
    got = assert_status(api.get(f"/api/bikes/{b['id']}"), 200)
    assert got["metadata"] == p["metadata"]


def test_patch_metadata_empty_object_changes_nothing(api, create_bike):
    b = create_bike(api, metadata={"color": "red"})
    p = assert_status(api.patch(f"/api/bikes/{b['id']}", json={"metadata": {}}), 200)
    assert p["metadata"] == {"color": "red"}


def test_patch_updated_at_moves_created_at_does_not(api, create_bike):
    b = create_bike(api)
    time.sleep(0.02)
    p = assert_status(api.patch(f"/api/bikes/{b['id']}", json={"name": "Renamed"}), 200)
    assert RFC3339_UTC.match(p["updated_at"]), p["updated_at"]
    assert p["created_at"] == b["created_at"]
    assert parse_ts(p["updated_at"]) > parse_ts(b["updated_at"]), \
        f"updated_at did not move: {b['updated_at']} -> {p['updated_at']}"
    got = assert_status(api.get(f"/api/bikes/{b['id']}"), 200)
    assert got["updated_at"] == p["updated_at"]


def test_patch_initial_kilometrage_moves_total_by_delta(db, api, create_bike):
    b = create_bike(api, initial_kilometrage=100)
    # A 50 km ride logged on the bike (made here directly: the kilometrage route is elsewhere).
    db.execute("INSERT INTO vehicles.kilometrage_log (bike_id, user_id, distance)"
               " VALUES (%s, %s, 50)", (b["id"], b["user_id"]))
    db.execute("UPDATE vehicles.user_bike SET total_kilometrage = total_kilometrage + 50,"
               " ride_count = ride_count + 1 WHERE id = %s", (b["id"],))
    assert assert_status(api.get(f"/api/bikes/{b['id']}"), 200)["total_kilometrage"] == 150
    p = assert_status(api.patch(f"/api/bikes/{b['id']}", json={"initial_kilometrage": 120}), 200)
    assert p["total_kilometrage"] == 170, describe(api.get(f"/api/bikes/{b['id']}"))
    p = assert_status(api.patch(f"/api/bikes/{b['id']}", json={"initial_kilometrage": 0}), 200)
    assert p["total_kilometrage"] == 50


def test_patch_initial_kilometrage_in_miles(db, api, create_bike):
    b = create_bike(api, initial_kilometrage=10)
    p = assert_status(api.patch(f"/api/bikes/{b['id']}",
                                json={"initial_kilometrage": 10.5, "unit": "mi"}), 200)
    assert p["unit"] == "mi" and p["total_kilometrage"] == 10.5
    (stored,), = db.query("SELECT total_kilometrage FROM vehicles.user_bike WHERE id = %s", (b["id"],))
    assert float(stored) == 16.898


def test_patch_initial_mileage_alias(api, create_bike):
    b = create_bike(api)
    p = assert_status(api.patch(f"/api/bikes/{b['id']}", json={"initial_mileage": 42}), 200)
    assert p["total_kilometrage"] == 42


@pytest.mark.parametrize("field,value", [
    ("id", "00000000-0000-4000-8000-000000000000"),
    ("user_id", "00000000-0000-4000-8000-000000000000"),
    ("created_at", "2024-01-01T00:00:00Z"),
    ("updated_at", "2024-01-01T00:00:00Z"),
    ("total_kilometrage", 1),
])
def test_patch_read_only_field_is_400(api, create_bike, field, value):
    b = create_bike(api)
    assert_error(api.patch(f"/api/bikes/{b['id']}", json={field: value}), 400, "validation_error",
                 {field}, exact=True)
    got = assert_status(api.get(f"/api/bikes/{b['id']}"), 200)
    assert got[field] == b[field]


def test_patch_read_only_and_unknown_named_at_once(api, create_bike):
    b = create_bike(api)
    body = {"id": b["id"], "user_id": b["user_id"], "created_at": b["created_at"],
            "updated_at": b["updated_at"], "total_kilometrage": 0, "wheels": 2, "name": ""}
    assert_error(api.patch(f"/api/bikes/{b['id']}", json=body), 400, "validation_error",
                 set(body), exact=True)


@pytest.mark.parametrize("body,field", [
    ({"wheels": 2}, "wheels"),
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": None}, "name"),
    ({"name": "x" * 101}, "name"),
    ({"type": None}, "type"),
    ({"type": "unicycle"}, "type"),
    ({"initial_kilometrage": -3}, "initial_kilometrage"),
    ({"initial_kilometrage": "3"}, "initial_kilometrage"),
    ({"purchase_date": "2023-02-30"}, "purchase_date"),
    ({"metadata": None}, "metadata"),
    ({"metadata": [1]}, "metadata"),
    ({"unit": "yd"}, "unit"),
])
def test_patch_bad_field_is_400_and_changes_nothing(api, create_bike, body, field):
    b = create_bike(api, initial_kilometrage=5, metadata={"k": 1})
    assert_error(api.patch(f"/api/bikes/{b['id']}", json=body), 400, "validation_error",
                 {field}, exact=True)
    got = assert_status(api.get(f"/api/bikes/{b['id']}"), 200)
    for k in ("name", "type", "total_kilometrage", "metadata", "updated_at"):
        assert got[k] == b[k], k


def test_patch_metadata_over_16k_after_merge_is_400(api, create_bike):
    b = create_bike(api, metadata={"a": "x" * 9000})
    assert_error(api.patch(f"/api/bikes/{b['id']}", json={"metadata": {"b": "y" * 9000}}), 400,
                 "validation_error", {"metadata"})
    got = assert_status(api.get(f"/api/bikes/{b['id']}"), 200)
    assert got["metadata"] == {"a": "x" * 9000}


def test_patch_empty_object_is_ok(api, create_bike):
    b = create_bike(api)
    p = assert_status(api.patch(f"/api/bikes/{b['id']}", json={}), 200)
    assert p["name"] == b["name"]


def test_patch_not_json_is_400(api, create_bike):
    b = create_bike(api)
    r = api.patch(f"/api/bikes/{b['id']}", data=b"{nope", headers={"Content-Type": "application/json"})
    assert_error(r, 400, "validation_error")


def test_patch_wrong_content_type_is_415(api, create_bike):
    b = create_bike(api)
    r = api.patch(f"/api/bikes/{b['id']}", data=b'{"name":"x"}', headers={"Content-Type": "text/plain"})
    assert_error(r, 415, "unsupported_media_type")


@pytest.mark.parametrize("body", [{"name": "fine"}, {"name": ""}, {"id": "x"}, b"{nope", b"[]"])
def test_patch_foreign_bike_is_403_even_with_bad_body(api, other_api, create_bike, body):
    b = create_bike(other_api)
    if isinstance(body, bytes):
        r = api.patch(f"/api/bikes/{b['id']}", data=body, headers={"Content-Type": "application/json"})
    else:
        r = api.patch(f"/api/bikes/{b['id']}", json=body)
    assert_error(r, 403, "forbidden")
    assert assert_status(other_api.get(f"/api/bikes/{b['id']}"), 200)["name"] == b["name"]


@pytest.mark.parametrize("body", [{"name": "fine"}, {"name": ""}, {"id": "x"}, b"{nope", b"[]"])
def test_patch_missing_bike_is_404_even_with_bad_body(api, body):
    path = f"/api/bikes/{random_uuid()}"
    if isinstance(body, bytes):
        r = api.patch(path, data=body, headers={"Content-Type": "application/json"})
    else:
        r = api.patch(path, json=body)
    assert_error(r, 404, "not_found")


def test_patch_malformed_id_is_400_before_body(api):
    assert_error(api.patch("/api/bikes/nope", json={"name": ""}), 400, "validation_error", {"id"})


# ---- DELETE ----------------------------------------------------------------------------

def test_delete_then_404(api, create_bike):
    b = create_bike(api)
    keep = create_bike(api, name="Keep")
    r = api.delete(f"/api/bikes/{b['id']}")
    assert assert_status(r, 200) == {"success": True, "id": b["id"]}
    assert_error(api.get(f"/api/bikes/{b['id']}"), 404, "not_found")
    assert_error(api.delete(f"/api/bikes/{b['id']}"), 404, "not_found")
    assert_error(api.patch(f"/api/bikes/{b['id']}", json={"name": "x"}), 404, "not_found")
    lst = assert_status(api.get("/api/bikes"), 200)
    assert [x["id"] for x in lst] == [keep["id"]]


def test_delete_other_users_bike_is_403(api, other_api, create_bike):
    b = create_bike(other_api)
    assert_error(api.delete(f"/api/bikes/{b['id']}"), 403, "forbidden")
    assert_status(other_api.get(f"/api/bikes/{b['id']}"), 200)


def test_delete_missing_is_404_and_malformed_is_400(api):
    assert_error(api.delete(f"/api/bikes/{random_uuid()}"), 404, "not_found")
    assert_error(api.delete("/api/bikes/not-a-uuid"), 400, "validation_error", {"id"})
