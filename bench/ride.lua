-- wrk: POST /api/bikes/:id/kilometrage, a random benchmark user per request.
-- TARGETS names a file of "token bike_id" lines (bench/run writes it).
local targets = {}
for line in io.lines(os.getenv("TARGETS")) do
  local token, bike = line:match("^(%S+) (%S+)$")
  if token then targets[#targets + 1] = { token, bike } end
end
local body = '{"distance":1.5}'

request = function()
  local t = targets[math.random(#targets)]
  return wrk.format("POST", "/api/bikes/" .. t[2] .. "/kilometrage",
    { ["Authorization"] = "Bearer " .. t[1], ["Content-Type"] = "application/json" }, body)
end
