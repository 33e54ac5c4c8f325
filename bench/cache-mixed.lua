-- wrk: write-heavy, every list read follows a write of the same user (a miss when cached):
-- each connection alternates POST /api/bikes/$BIKE/kilometrage and GET $CACHE_PATH.
local path = os.getenv("CACHE_PATH")
local token = os.getenv("TOKEN")
local bike = os.getenv("BIKE")
local n = 0
request = function()
  n = n + 1
  if n % 2 == 1 then
    return wrk.format("POST", "/api/bikes/" .. bike .. "/kilometrage",
      { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" },
      '{"distance":1.5}')
  end
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end
