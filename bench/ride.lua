-- wrk: POST /api/bikes/:id/kilometrage, a random benchmark user (and its bike) per request.
-- TARGETS names a file of "token bike_id" lines (bench/run writes one per side; a file of one
-- line puts every ride on one bike: the row-lock contention case).
local targets = {}
for line in io.lines(os.getenv("TARGETS")) do
  local token, bike = line:match("^(%S+) (%S+)$")
  if token then targets[#targets + 1] = { token, bike } end
end
local body = '{"distance":1.5}'

-- Each thread its own random sequence (LuaJIT's starts alike in every thread).
local nthreads = 0
setup = function(thread) nthreads = nthreads + 1; thread:set("seed", nthreads) end
init = function() math.randomseed(os.time() * 1000 + (seed or 0)) end

request = function()
  local t = targets[math.random(#targets)]
  return wrk.format("POST", "/api/bikes/" .. t[2] .. "/kilometrage",
    { ["Authorization"] = "Bearer " .. t[1], ["Content-Type"] = "application/json" }, body)
end
