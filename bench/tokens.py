#!/usr/bin/python3
"""Prints "token bike_id" for benchmark users 1..N (ids as in seed.sql), HS256-signed."""
import os
import sys
import time

import jwt

n = int(sys.argv[1])
secret = os.environ["SUPABASE_JWT_SECRET"]
exp = int(time.time()) + 6 * 3600
for i in range(1, n + 1):
    sub = "00000000-0000-4000-8000-%012x" % i
    claims = {"sub": sub, "aud": "authenticated", "role": "authenticated", "exp": exp}
    print(jwt.encode(claims, secret, algorithm="HS256"), "00000000-0000-4000-9000-%012x" % i)
