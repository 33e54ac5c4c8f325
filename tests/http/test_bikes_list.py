"""GET /api/bikes: order, paging, X-Total-Count, units, include_parts, isolation."""
import pytest

from support import assert_error, assert_status, describe


def _make(api, create_bike, n):
    return [create_bike(api, name=f"Bike {i}", initial_kilometrage=10 * (i + 1)) for i in range(n)]


def test_list_empty(api):
    r = api.get("/api/bikes")
    assert assert_status(r, 200) == []
    assert r.headers.get("X-Total-Count") == "0", describe(r)


def test_list_newest_first_with_total(api, create_bike):
    made = _make(api, create_bike, 3)
    r = api.get("/api/bikes")
    lst = assert_status(r, 200)
    assert [b["id"] for b in lst] == [b["id"] for b in reversed(made)]
    assert r.headers.get("X-Total-Count") == "3", describe(r)
    for b in lst:
        assert b["unit"] == "km" and b["is_active"] is False


def test_list_items_match_get(api, create_bike):
    made = create_bike(api, brand="Brand", metadata={"x": 1})
    lst = assert_status(api.get("/api/bikes"), 200)
    for k, v in made.items():
        if k != "parts":  # only with include_parts
            assert lst[0][k] == v, k


def test_list_limit_offset(api, create_bike):
    made = list(reversed(_make(api, create_bike, 5)))
    ids = [b["id"] for b in made]
    r = api.get("/api/bikes", params={"limit": 2})
    assert [b["id"] for b in assert_status(r, 200)] == ids[:2]
    assert r.headers.get("X-Total-Count") == "5"
    r = api.get("/api/bikes", params={"limit": 2, "offset": 2})
    assert [b["id"] for b in assert_status(r, 200)] == ids[2:4]
    assert r.headers.get("X-Total-Count") == "5"
    r = api.get("/api/bikes", params={"limit": 2, "offset": 4})
    assert [b["id"] for b in assert_status(r, 200)] == ids[4:]
    r = api.get("/api/bikes", params={"offset": 10})
    assert assert_status(r, 200) == []
    assert r.headers.get("X-Total-Count") == "5"
    r = api.get("/api/bikes", params={"limit": 200})
    assert len(assert_status(r, 200)) == 5
    r = api.get("/api/bikes", params={"limit": 1})
    assert [b["id"] for b in assert_status(r, 200)] == ids[:1]


@pytest.mark.parametrize("params,field", [
    ({"limit": 0}, "limit"),
    ({"limit": 201}, "limit"),
    ({"limit": -1}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"limit": "1.5"}, "limit"),
    ({"offset": -1}, "offset"),
    ({"offset": "x"}, "offset"),
    ({"unit": "furlong"}, "unit"),
    ({"unit": ""}, "unit"),
    ({"include_parts": "maybe"}, "include_parts"),
])
def test_list_bad_query_is_400(api, params, field):
    assert_error(api.get("/api/bikes", params=params), 400, "validation_error", {field}, exact=True)


def test_list_bad_limit_and_offset_named_at_once(api):
    assert_error(api.get("/api/bikes", params={"limit": 0, "offset": -1}), 400,
                 "validation_error", {"limit", "offset"})


def test_list_unit_mi(api, create_bike):
    create_bike(api, initial_kilometrage=16.898)
    lst = assert_status(api.get("/api/bikes?unit=mi"), 200)
    assert lst[0]["total_kilometrage"] == 10.5 and lst[0]["unit"] == "mi"
    lst = assert_status(api.get("/api/bikes?unit=km"), 200)
    assert lst[0]["total_kilometrage"] == 16.898 and lst[0]["unit"] == "km"


def test_list_include_parts(api, create_bike):
    _make(api, create_bike, 2)
    lst = assert_status(api.get("/api/bikes?include_parts=true"), 200)
    assert len(lst) == 2
    for b in lst:
        assert b.get("parts") == [], describe(api.get("/api/bikes?include_parts=true"))
    assert len(assert_status(api.get("/api/bikes?include_parts=false"), 200)) == 2


def test_list_isolation(api, other_api, create_bike):
    mine = create_bike(api, name="Mine")
    theirs = [create_bike(other_api, name=f"Theirs {i}") for i in range(3)]
    r = api.get("/api/bikes")
    lst = assert_status(r, 200)
    assert [b["id"] for b in lst] == [mine["id"]]
    assert r.headers.get("X-Total-Count") == "1"
    r = other_api.get("/api/bikes?include_parts=true")
    ids = [b["id"] for b in assert_status(r, 200)]
    assert ids == [b["id"] for b in reversed(theirs)]
    assert r.headers.get("X-Total-Count") == "3"
    assert all(b["user_id"] != mine["user_id"] for b in assert_status(r, 200))
