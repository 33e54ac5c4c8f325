-- What the worker sends for POST /api/bikes/:id/kilometrage: one pipeline, one round trip.
\set n random(1, :nusers)
\startpipeline
SELECT set_config('role', 'authenticated', true), set_config('request.jwt.claims', '{"sub":"00000000-0000-4000-8000-' || lpad(to_hex(:n::integer), 12, '0') || '","role":"authenticated","aud":"authenticated"}', true);
SELECT vehicles.ride_log(gen_random_uuid(), ('00000000-0000-4000-9000-' || lpad(to_hex(:n::integer), 12, '0'))::uuid, 1.5, NULL, NULL, NULL, NULL);
\endpipeline
