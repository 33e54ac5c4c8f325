-- wrk: GET $CACHE_PATH as one user (Authorization: Bearer $TOKEN); bench/cache-bench.
local path = os.getenv("CACHE_PATH")
local token = os.getenv("TOKEN")
request = function()
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end
