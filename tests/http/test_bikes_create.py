"""POST /api/bikes: the created object, units, and validation."""
import json

import pytest

from support import (RFC3339_UTC, UUID_RE, assert_error, assert_status, describe, is_number)

BIKE_TYPES = ["road", "mountain", "hybrid", "gravel", "ebike", "other"]


def test_create_minimal_returns_every_field(user, api):
    r = api.post("/api/bikes", json={"name": "  Commuter  ", "type": "hybrid"})
    b = assert_status(r, 201)
    assert UUID_RE.match(b["id"]), describe(r)
    for f in ("created_at", "updated_at"):
        assert isinstance(b[f], str) and RFC3339_UTC.match(b[f]), f"{f} not RFC 3339 UTC 'Z': {describe(r)}"
    assert b["user_id"] == user.id
    assert b["name"] == "Commuter", "name must be trimmed"
    assert b["type"] == "hybrid"
    # Optional fields are present with null, not left out.
    for f in ("brand", "model", "purchase_date"):
        assert f in b and b[f] is None, f"{f} should be null: {describe(r)}"
    assert is_number(b["total_kilometrage"]) and b["total_kilometrage"] == 0
    assert b["metadata"] == {}
    assert b["is_active"] is False
    assert b["unit"] == "km"


def test_create_full_and_read_back(user, api):
    body = {"name": "Roadie", "type": "road", "brand": "Canyon", "model": "Ultimate",
            "purchase_date": "2024-02-29", "initial_kilometrage": 1234.5,
            "metadata": {"color": "red", "weight_kg": 7.9, "tags": ["fast"], "nested": {"a": 1}}}
    b = assert_status(api.post("/api/bikes", json=body), 201)
    for k in ("name", "type", "brand", "model", "purchase_date", "metadata"):
        assert b[k] == body[k], k
    assert b["total_kilometrage"] == 1234.5
    got = assert_status(api.get(f"/api/bikes/{b['id']}"), 200)
    for k in ("id", "name", "type", "brand", "model", "purchase_date", "metadata",
              "total_kilometrage", "user_id", "created_at", "updated_at", "is_active"):
        assert got[k] == b[k], f"{k}: GET {got[k]!r} != POST {b[k]!r}"
    assert got["unit"] == "km"


@pytest.mark.parametrize("t", BIKE_TYPES)
def test_create_every_type(api, t):
    assert assert_status(api.post("/api/bikes", json={"name": t, "type": t}), 201)["type"] == t


def test_create_content_type_with_charset(api):
    r = api.post("/api/bikes", data=json.dumps({"name": "x", "type": "road"}).encode(),
                 headers={"Content-Type": "application/json; charset=utf-8"})
    assert_status(r, 201)


def test_initial_mileage_alias(api):
    b = assert_status(api.post("/api/bikes", json={"name": "Old", "type": "road",
                                                   "initial_mileage": 250}), 201)
    assert b["total_kilometrage"] == 250
    assert b["unit"] == "km"


def test_initial_mileage_in_miles_design_example(db, api):
    # The design's example: 500 mi is stored as 804.67 km.
    b = assert_status(api.post("/api/bikes", json={"name": "Road Bike", "type": "road",
                                                   "initial_mileage": 500, "unit": "mi"}), 201)
    (stored,), = db.query("SELECT total_kilometrage FROM vehicles.user_bike WHERE id = %s", (b["id"],))
    assert float(stored) == 804.67
    # Answered in miles: 804.67 km x 0.621371 = 499.9986 -> 499.999 (the two factors of the
    # spec are not exact inverses).
    assert b["unit"] == "mi" and b["total_kilometrage"] == round(804.67 * 0.621371, 3) == 499.999
    km = assert_status(api.get(f"/api/bikes/{b['id']}"), 200)
    assert km["total_kilometrage"] == 804.67 and km["unit"] == "km"


def test_unit_mi_is_stored_in_km(db, api):
    r = api.post("/api/bikes", json={"name": "Imperial", "type": "road",
                                     "initial_kilometrage": 10.5, "unit": "mi"})
    b = assert_status(r, 201)
    # Answered in the unit it was given in.
    assert b["unit"] == "mi" and b["total_kilometrage"] == 10.5, describe(r)
    (stored,), = db.query("SELECT total_kilometrage FROM vehicles.user_bike WHERE id = %s", (b["id"],))
    assert float(stored) == 16.898
    km = assert_status(api.get(f"/api/bikes/{b['id']}?unit=km"), 200)
    assert km["total_kilometrage"] == 16.898 and km["unit"] == "km"
    dflt = assert_status(api.get(f"/api/bikes/{b['id']}"), 200)
    assert dflt["total_kilometrage"] == 16.898 and dflt["unit"] == "km"
    mi = assert_status(api.get(f"/api/bikes/{b['id']}?unit=mi"), 200)
    assert mi["total_kilometrage"] == 10.5 and mi["unit"] == "mi"


def test_distances_rounded_to_three_decimals(api):
    b = assert_status(api.post("/api/bikes", json={"name": "R", "type": "road",
                                                   "initial_kilometrage": 1.23456}), 201)
    assert b["total_kilometrage"] == 1.235
    mi = assert_status(api.get(f"/api/bikes/{b['id']}?unit=mi"), 200)
    # 1.235 km * 0.621371 = 0.76739... -> 0.767
    assert mi["total_kilometrage"] == 0.767


@pytest.mark.parametrize("name", ["x" * 100, "  " + "y" * 100 + "  ", "é" * 100, "🚲" * 100])
def test_name_limit_is_100_characters_after_trim(api, name):
    b = assert_status(api.post("/api/bikes", json={"name": name, "type": "road"}), 201)
    assert b["name"] == name.strip()


def test_limits_at_the_boundary_accepted(api):
    b = assert_status(api.post("/api/bikes", json={
        "name": "B", "type": "road", "brand": "b" * 100, "model": "m" * 100,
        "initial_kilometrage": 1000000, "metadata": {"notes": "n" * 15000}}), 201)
    assert b["total_kilometrage"] == 1000000
    assert b["brand"] == "b" * 100 and b["model"] == "m" * 100


def test_zero_initial_and_explicit_nulls_accepted(api):
    b = assert_status(api.post("/api/bikes", json={
        "name": "N", "type": "road", "brand": None, "model": None, "purchase_date": None,
        "initial_kilometrage": 0, "unit": "km"}), 201)
    assert b["brand"] is None and b["model"] is None and b["purchase_date"] is None
    assert b["total_kilometrage"] == 0


# ---- validation -------------------------------------------------------------------------

BAD_FIELDS = [
    # (case, body overrides (None value = remove the key), the field details must name)
    ("missing_name", {"name": None}, "name"),
    ("missing_type", {"type": None}, "type"),
    ("name_null", {"name": ("null",)}, "name"),
    ("type_null", {"type": ("null",)}, "type"),
    ("name_101", {"name": "x" * 101}, "name"),
    ("name_101_multibyte", {"name": "é" * 101}, "name"),
    ("name_empty", {"name": ""}, "name"),
    ("name_whitespace", {"name": "  \t  "}, "name"),
    ("name_number", {"name": 42}, "name"),
    ("brand_101", {"brand": "b" * 101}, "brand"),
    ("model_101", {"model": "m" * 101}, "model"),
    ("brand_number", {"brand": 7}, "brand"),
    ("type_bad", {"type": "spaceship"}, "type"),
    ("type_case", {"type": "Road"}, "type"),
    ("type_part_type", {"type": "chain"}, "type"),
    ("initial_numeric_string", {"initial_kilometrage": "12"}, "initial_kilometrage"),
    ("initial_negative", {"initial_kilometrage": -1}, "initial_kilometrage"),
    ("initial_too_big", {"initial_kilometrage": 1000000.5}, "initial_kilometrage"),
    ("initial_too_big_in_mi", {"initial_kilometrage": 700000, "unit": "mi"}, "initial_kilometrage"),
    ("initial_bool", {"initial_kilometrage": True}, "initial_kilometrage"),
    ("initial_mileage_string", {"initial_mileage": "5"}, "initial_mileage"),
    ("initial_mileage_negative", {"initial_mileage": -5}, "initial_mileage"),
    ("purchase_date_feb_30", {"purchase_date": "2023-02-30"}, "purchase_date"),
    ("purchase_date_feb_29_non_leap", {"purchase_date": "2023-02-29"}, "purchase_date"),
    ("purchase_date_month_13", {"purchase_date": "2023-13-01"}, "purchase_date"),
    ("purchase_date_timestamp", {"purchase_date": "2023-01-05T00:00:00Z"}, "purchase_date"),
    ("purchase_date_short", {"purchase_date": "2023-1-5"}, "purchase_date"),
    ("purchase_date_number", {"purchase_date": 20230105}, "purchase_date"),
    ("metadata_array", {"metadata": [1, 2]}, "metadata"),
    ("metadata_string", {"metadata": "{}"}, "metadata"),
    ("metadata_too_big", {"metadata": {"notes": "x" * 17000}}, "metadata"),
    ("unit_bad", {"unit": "furlong"}, "unit"),
    ("unit_case", {"unit": "KM"}, "unit"),
    ("unknown_field", {"colour": "red"}, "colour"),
    ("read_only_id", {"id": "00000000-0000-4000-8000-000000000000"}, "id"),
    ("read_only_total", {"total_kilometrage": 5}, "total_kilometrage"),
    ("read_only_user_id", {"user_id": "00000000-0000-4000-8000-000000000000"}, "user_id"),
    ("read_only_created_at", {"created_at": "2024-01-01T00:00:00Z"}, "created_at"),
    ("read_only_updated_at", {"updated_at": "2024-01-01T00:00:00Z"}, "updated_at"),
]


def _body(over):
    body = {"name": "Valid", "type": "road"}
    for k, v in over.items():
        if v is None:
            body.pop(k, None)
        elif v == ("null",):
            body[k] = None
        else:
            body[k] = v
    return body


@pytest.mark.parametrize("case,over,field", BAD_FIELDS, ids=[c[0] for c in BAD_FIELDS])
def test_create_rejects_bad_field(api, case, over, field):
    assert_error(api.post("/api/bikes", json=_body(over)), 400, "validation_error", {field}, exact=True)


def test_nothing_created_on_validation_error(api):
    api.post("/api/bikes", json={"name": "", "type": "road"})
    assert assert_status(api.get("/api/bikes"), 200) == []


def test_every_bad_field_named_at_once(api):
    body = {"name": "x" * 101, "type": "spaceship", "brand": 5, "purchase_date": "2023-02-30",
            "initial_kilometrage": "12", "unit": "furlong", "metadata": [], "colour": "red",
            "id": "00000000-0000-4000-8000-000000000000", "total_kilometrage": 3}
    assert_error(api.post("/api/bikes", json=body), 400, "validation_error",
                 {"name", "type", "brand", "purchase_date", "initial_kilometrage", "unit",
                  "metadata", "colour", "id", "total_kilometrage"}, exact=True)


def test_missing_name_and_type_named_at_once(api):
    assert_error(api.post("/api/bikes", json={"brand": "x"}), 400, "validation_error",
                 {"name", "type"}, exact=True)


@pytest.mark.parametrize("raw", [b"not json", b"{\"name\": \"x\", \"type\": \"road\"", b"[]",
                                 b"[{\"name\": \"x\", \"type\": \"road\"}]", b"\"road\"", b"42",
                                 b"null", b"", b"   "])
def test_body_not_a_json_object_is_400(api, raw):
    r = api.post("/api/bikes", data=raw, headers={"Content-Type": "application/json"})
    assert_error(r, 400, "validation_error")


def test_trailing_garbage_after_object_is_400(api):
    r = api.post("/api/bikes", data=b'{"name":"x","type":"road"} x',
                 headers={"Content-Type": "application/json"})
    assert_error(r, 400, "validation_error")


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded",
                                   "multipart/form-data; boundary=x", "application/jsonx", None])
def test_wrong_content_type_with_body_is_415(api, ctype):
    headers = {"Content-Type": ctype} if ctype else {}
    r = api.post("/api/bikes", data=json.dumps({"name": "x", "type": "road"}).encode(),
                 headers=headers)
    assert_error(r, 415, "unsupported_media_type")
    assert assert_status(api.get("/api/bikes"), 200) == []
