#!/usr/bin/python3
"""Writes the hand-made seeds of tests/fuzz/corpus/<target>/ (files named seed-*).

The seeds are what the service really sees: the bodies tests/http sends, the routes of
src/routes.c, Supabase-shaped tokens, a JWKS like Supabase's, ride-history cursors. The
fuzzer's own finds live beside them (files named by their SHA-1, kept by `scripts/fuzz
merge`). Run from anywhere: python3 tests/fuzz/make_seeds.py; it rewrites seed-* only.
"""
import base64
import hashlib
import hmac
import json
import os
import re
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

HERE = os.path.dirname(os.path.abspath(__file__))
NOW = 1700000000  # FUZZ_NOW in fuzz_auth.c
SECRET = b"fuzz-only-hs256-secret-0123456789abcdef"  # FUZZ_SECRET in fuzz_auth.c
UID = "6f1c2a4e-8b3d-4f5a-9c7e-1d2b3a4c5e6f"
LOG = "0b9d7c1e-2f3a-4b5c-8d6e-7f8091a2b3c4"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def js(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def body_seeds():
    bodies = {
        "bike-create": {"name": "  Commuter  ", "type": "hybrid", "brand": "Trek",
                        "model": "FX 3", "purchase_date": "2023-04-01",
                        "initial_kilometrage": 120, "unit": "km",
                        "metadata": {"color": "red", "frame_size": 54}},
        "bike-mileage": {"name": "Gravel", "type": "gravel", "initial_mileage": 10.5,
                         "unit": "mi", "brand": None, "model": None},
        "part-create": {"name": "KMC X11", "type": "chain",
                        "metadata": {"replacement_threshold_km": 3000,
                                     "maintenance_interval_km": 500}},
        "ride": {"distance": 12.5, "logged_at": "2023-11-14T07:30:00.123+01:00",
                 "notes": "commute"},
        "ride-mi": {"distance": 1.111, "unit": "mi", "logged_at": "2023-11-14T06:00:00Z"},
        "install": {"installed_at": "2023-11-10T08:00:00Z"},
        "remove": {"removed_at": "2023-11-12T18:45:10-05:00"},
        "transfer": {"new_owner_email": "friend@example.com", "notes": "sold"},
        "maintenance": {"maintenance_type": "chain_lube", "description": "wet lube",
                        "performed_at": "2023-11-01T10:00:00+00:00", "cost": 4.99,
                        "metadata": {"shop": "home", "tags": ["lube", "chain"]}},
        "patch-null": {"brand": None, "model": None, "purchase_date": None},
        "empty-object": {},
    }
    out = {k: json.dumps(v).encode() for k, v in bodies.items()}
    out.update({
        "numbers": b'{"a":0,"b":-0.0,"c":1.5e-3,"d":18446744073709551615,'
                   b'"e":-9223372036854775808,"f":1E+2,"g":123456789012345678901234567890}',
        "escapes": b'{"s":"\\u00e9\\ud83d\\ude00\\n\\t\\"\\\\\\/","k\\u0061":1}',
        "utf8": '{"name":"Vélo été 🚲","notes":"日本"}'.encode(),
        "nested": b'{"m":{"a":[[[{"b":[1,2,{"c":null}]}]]],"t":true,"f":false}}',
        "duplicate-key": b'{"name":"a","name":"b"}',
        "not-object": b'[1,2,3]',
        "whitespace": b' \r\n\t{ "distance" : 1 }\n ',
        "blank": b" \n",
    })
    return out


def routes():
    """(method, path) of every route in src/routes.c, with real ids in the parameters."""
    src = open(os.path.join(HERE, "..", "..", "src", "routes.c")).read()
    seen = []
    for method, pattern in re.findall(r'\{"([A-Z]+)", "(/[^"]*)"', src):
        path = re.sub(r":([a-z_]+)", lambda m: LOG if m.group(1) == "log_id" else UID, pattern)
        seen.append((method, path))
    return seen


def router_seeds():
    out = {}
    for i, (method, path) in enumerate(routes()):
        out["route-%02d" % i] = ("%s\n%s" % (method, path)).encode()
    out.update({
        "head-health": b"HEAD\n/health",
        "trace": b"TRACE\n/api/bikes",
        "options": b"OPTIONS\n/api/parts/" + UID.encode(),
        "trailing-slash": b"GET\n/api/bikes/",
        "double-slash": b"GET\n//api//bikes",
        "long-id": b"GET\n/api/bikes/" + b"a" * 200 + b"/stats",
        "not-found": b"GET\n/api/unknown/thing",
    })
    return out


def query_seeds():
    return {
        "page": b"limit=50&offset=0",
        "unit": b"unit=mi",
        "cursor": ("unit=km&limit=20&cursor=1699999999123456." + LOG).encode(),
        "cursor-negative": ("cursor=-2208988800000000." + LOG).encode(),
        "active": b"active=true&limit=200",
        "encoded": b"unit=k%6D&limit=%31%30&name=a+b%20c&x=%00&y=%zz&%3D=%26",
        "repeated": b"limit=1&limit=2&limit=3&&&offset=",
        "many": "&".join("p%d=%d" % (i, i) for i in range(20)).encode(),
        "no-value": b"active&unit=&=x",
    }


def cursor_seeds():
    return {
        "cursor": ("1699999999123456." + LOG).encode(),
        "cursor-1900": ("-2208988800000000." + LOG).encode(),
        "cursor-9999": ("253402300799000000." + LOG.upper()).encode(),
        "timestamp-z": b"2023-11-14T07:30:00Z",
        "timestamp-frac": b"2023-11-14T07:30:00.123456789+01:00",
        "timestamp-offset": b"1999-12-31t23:59:59-15:59",
        "timestamp-leap": b"2024-02-29T12:00:00+14:00",
        "date": b"2023-04-01",
        "date-bad": b"2023-02-29",
        "int": b"200",
        "int-big": b"9223372036854775808",
        "uuid": UID.encode(),
    }


def private_keys():
    src = open(os.path.join(HERE, "fuzz_auth.c")).read()
    pems = []
    for name in ("fuzz_ec_pem", "fuzz_rsa_pem"):
        body = re.search(r"%s\[\] =\n(.*?);" % name, src, re.S).group(1)
        pem = "".join(re.findall(r'"(.*?)\\n"', body))
        pem = pem.replace("-----BEGIN PRIVATE KEY-----", "-----BEGIN PRIVATE KEY-----\n")
        pem = pem.replace("-----END PRIVATE KEY-----", "\n-----END PRIVATE KEY-----\n")
        pems.append(serialization.load_pem_private_key(pem.encode(), None))
    return pems


def sign(alg, header, payload, eck, rsak):
    msg = (b64(header) + "." + b64(payload)).encode()
    if alg == "HS256":
        sig = hmac.new(SECRET, msg, hashlib.sha256).digest()
    elif alg == "ES256":
        r, s = decode_dss_signature(eck.sign(msg, ec.ECDSA(hashes.SHA256())))
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    else:
        sig = rsak.sign(msg, padding.PKCS1v15(), hashes.SHA256())
    return msg.decode() + "." + b64(sig)


def auth_seeds():
    eck, rsak = private_keys()
    user = {"aud": "authenticated", "exp": NOW + 3600, "iat": NOW - 60, "nbf": NOW - 60,
            "iss": "https://project.supabase.co/auth/v1", "sub": UID,
            "email": "rider@example.com", "phone": "", "role": "authenticated",
            "aal": "aal1", "amr": [{"method": "password", "timestamp": NOW - 60}],
            "session_id": LOG, "is_anonymous": False,
            "app_metadata": {"provider": "email", "providers": ["email"]},
            "user_metadata": {}}
    service = {"iss": "supabase", "role": "service_role", "exp": NOW + 60}
    expired = dict(user, exp=NOW - 3600)
    headers = {"HS256": {"alg": "HS256", "typ": "JWT"},
               "ES256": {"alg": "ES256", "typ": "JWT", "kid": "fuzz-es256"},
               "RS256": {"alg": "RS256", "typ": "JWT", "kid": "fuzz-rs256"}}
    out = {}
    # Signed by the target (mode 1 HS256, 2 ES256, 3 RS256): header JSON, newline, payload.
    for mode, alg in ((1, "HS256"), (2, "ES256"), (3, "RS256")):
        h = js(headers[alg])
        out["signed-%s-user" % alg] = bytes([mode]) + h + b"\n" + js(user)
        out["signed-%s-service" % alg] = bytes([mode]) + h + b"\n" + js(service)
    out["signed-HS256-expired"] = b"\x01" + js(headers["HS256"]) + b"\n" + js(expired)
    out["signed-HS256-crit"] = b"\x01" + js({"alg": "HS256", "crit": ["exp"]}) + b"\n" + js(user)
    out["signed-HS256-aud-list"] = (b"\x01" + js(headers["HS256"]) + b"\n" +
                                    js(dict(user, aud=["other", "authenticated"])))
    # Raw Authorization headers (mode 0), signed here.
    for alg in ("HS256", "ES256", "RS256"):
        tok = sign(alg, js(headers[alg]), js(user), eck, rsak)
        out["raw-%s-user" % alg] = b"\x00Bearer " + tok.encode()
    out["raw-lowercase-scheme"] = b"\x00bearer " + sign("HS256", js(headers["HS256"]),
                                                        js(service), eck, rsak).encode()
    out["raw-alg-none"] = b"\x00Bearer " + (b64(js({"alg": "none"})) + "." + b64(js(user)) +
                                            ".").encode()
    out["raw-basic"] = b"\x00Basic dXNlcjpwYXNz"
    return out


def jwks_seeds():
    eck, rsak = private_keys()
    pub = eck.public_key().public_numbers()
    rpub = rsak.public_key().public_numbers()
    ecjwk = {"kty": "EC", "crv": "P-256", "x": b64(pub.x.to_bytes(32, "big")),
             "y": b64(pub.y.to_bytes(32, "big")), "kid": "ec-1", "alg": "ES256",
             "use": "sig", "key_ops": ["verify"], "ext": True}
    rsajwk = {"kty": "RSA", "n": b64(rpub.n.to_bytes(256, "big")),
              "e": b64(rpub.e.to_bytes(3, "big")), "kid": "rsa-1", "alg": "RS256", "use": "sig"}
    return {
        "supabase-like": js({"keys": [ecjwk]}),
        "ec-and-rsa": js({"keys": [ecjwk, rsajwk]}),
        "skipped-types": js({"keys": [{"kty": "oct", "k": "c2VjcmV0"},
                                      {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
                                      dict(ecjwk, use="enc"), dict(rsajwk, key_ops=["sign"])]}),
        "no-kid": js({"keys": [{k: v for k, v in ecjwk.items() if k != "kid"}]}),
        "empty": b'{"keys":[]}',
        "bad-point": js({"keys": [dict(ecjwk, y=b64(b"\x00" * 32))]}),
    }


def b64url_seeds():
    return {
        "header": b64(js({"alg": "ES256", "typ": "JWT", "kid": "k"})).encode(),
        "sig": b64(bytes(range(64))).encode(),
        "rest-2": b"AA", "rest-3": b"AAA", "bad-bits": b"AB", "json": b'{"a":[1,"x",null]}  ',
    }


SETS = {"body": body_seeds, "router": router_seeds, "query": query_seeds,
        "cursor": cursor_seeds, "auth": auth_seeds, "jwks": jwks_seeds, "b64url": b64url_seeds}


def main():
    for target, make in SETS.items():
        d = os.path.join(HERE, "corpus", target)
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            if f.startswith("seed-"):
                os.unlink(os.path.join(d, f))
        for name, data in make().items():
            with open(os.path.join(d, "seed-" + name), "wb") as f:
                f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
