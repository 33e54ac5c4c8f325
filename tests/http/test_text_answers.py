"""The hot reads write their answers as text (src/jtext.c); writes still build a json-c tree.
What a client stored, however hostile, must come back as sent from both, through nginx, as
strict JSON: quotes, backslashes, control bytes, line and paragraph separators, markup,
emoji, big numbers in metadata. The same bike read both ways must say the same."""
import json

import pytest

from flows import install, maint, new_bike, new_part
from support import assert_status

HOSTILE = [
    'quote " and back\\slash',
    "control \x01\x08\t\n\r\x0c\x1f end",
    "sep \u2028 \u2029 and \u0085",
    "</script><script>alert(1)</script>",
    "slash / and \\/ as text",
    "emoji \U0001F6B2 é ü 中",
]
METADATA = {"replacement_threshold_km": 3000, "note": HOSTILE[1], "nested": {"a": [1, 2.5, None]},
            "big": 9007199254740991, "neg": -9007199254740991, "f": 1.5e-7,
            "k\"ey\\": HOSTILE[0]}


def strict(resp):
    """The body as strict JSON (no raw control characters in strings), and its text."""
    assert resp.headers["Content-Type"].startswith("application/json"), resp.text
    return json.loads(resp.content.decode("utf-8"), strict=True)


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_strings_come_back_as_sent_on_every_read(api, text):
    bike = new_bike(api, name=text, brand=text, model=text[:50], metadata=METADATA)
    part = new_part(api, name=text, brand=text, metadata=METADATA)
    install(api, bike, part)
    maint(api, "bike", bike, description=text)
    maint(api, "part", part, description=text)

    got = strict(api.get(f"/api/bikes/{bike['id']}"))
    assert got["name"] == text and got["brand"] == text and got["metadata"] == METADATA
    assert [p["name"] for p in got["parts"]] == [text]
    assert got["parts"][0]["metadata"] == METADATA
    assert got["recent_maintenance"][0]["description"] == text

    got = strict(api.get(f"/api/parts/{part['id']}"))
    assert got["name"] == text and got["metadata"] == METADATA
    assert got["maintenance"][0]["description"] == text
    assert got["installations"][0]["bike_id"] == bike["id"]

    for path in ("/api/bikes", "/api/bikes?include_parts=true", "/api/parts",
                 "/api/parts?installed=true", "/api/bikes?unit=mi"):
        rows = strict(api.get(path))
        assert [r["name"] for r in rows] == [text], path
        assert rows[0]["metadata"] == METADATA, path
    on_bike = strict(api.get("/api/bikes?include_parts=true"))[0]["parts"]
    assert [p["name"] for p in on_bike] == [text]


@pytest.mark.parametrize("unit", ["km", "mi"])
def test_a_bike_read_as_text_says_what_its_write_said(api, unit):
    """PATCH answers with the tree (db_bike_write_read; its unit is the body's), GET with
    the text: every key both carry is the same, in either unit."""
    bike = new_bike(api, name=HOSTILE[0], initial_kilometrage=1234.5678, purchase_price=12.5,
                    metadata=METADATA)
    part = new_part(api, name=HOSTILE[1], initial_kilometrage=0.0005)
    install(api, bike, part)
    tree = assert_status(api.patch(f"/api/bikes/{bike['id']}",
                                   json={"model": HOSTILE[2], "unit": unit}), 200)
    assert tree["unit"] == unit
    text = strict(api.get(f"/api/bikes/{bike['id']}?unit={unit}"))
    assert set(tree) - {"recent_maintenance"} <= set(text)
    for key in tree:
        if key == "updated_at":
            continue
        assert text[key] == tree[key], key
    assert text["unit"] == unit


def test_another_users_hostile_bike_stays_theirs(api, other_api):
    bike = new_bike(other_api, name=HOSTILE[3])
    r = api.get(f"/api/bikes/{bike['id']}")
    assert r.status_code == 403, r.text
    assert HOSTILE[3] not in r.text
    assert all(b["id"] != bike["id"] for b in strict(api.get("/api/bikes?include_parts=true")))
