-- wrk: GET /api/bikes (the caller's list, default page), a random benchmark user per request.
-- TARGETS names a file of "token bike_id" lines (bench/run writes one per side).
local targets = {}
for line in io.lines(os.getenv("TARGETS")) do
  local token, bike = line:match("^(%S+) (%S+)$")
  if token then targets[#targets + 1] = { token, bike } end
end

-- Each thread its own random sequence (LuaJIT's starts alike in every thread).
local nthreads = 0
setup = function(thread) nthreads = nthreads + 1; thread:set("seed", nthreads) end
init = function() math.randomseed(os.time() * 1000 + (seed or 0)) end

request = function()
  local t = targets[math.random(#targets)]
  return wrk.format("GET", "/api/bikes", { ["Authorization"] = "Bearer " .. t[1] })
end
