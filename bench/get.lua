-- wrk: GET /api/bikes/:id, a random benchmark user per request (see ride.lua).
local targets = {}
for line in io.lines(os.getenv("TARGETS")) do
  local token, bike = line:match("^(%S+) (%S+)$")
  if token then targets[#targets + 1] = { token, bike } end
end

request = function()
  local t = targets[math.random(#targets)]
  return wrk.format("GET", "/api/bikes/" .. t[2], { ["Authorization"] = "Bearer " .. t[1] })
end
