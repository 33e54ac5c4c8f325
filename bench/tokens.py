#!/usr/bin/python3
"""Prints "token bike_id" for benchmark users FIRST..FIRST+N-1 (ids as in seed.sql), HS256-signed
with SUPABASE_JWT_SECRET, valid for six hours.
  tokens.py N [FIRST]     (FIRST defaults to 1)"""
import os
import sys
import time

import jwt

n = int(sys.argv[1])
first = int(sys.argv[2]) if len(sys.argv) > 2 else 1
secret = os.environ["SUPABASE_JWT_SECRET"]
exp = int(time.time()) + 6 * 3600
for i in range(first, first + n):
    sub = "00000000-0000-4000-8000-%012x" % i
    claims = {"sub": sub, "aud": "authenticated", "role": "authenticated", "exp": exp}
    print(jwt.encode(claims, secret, algorithm="HS256"), "00000000-0000-4000-9000-%012x" % i)
