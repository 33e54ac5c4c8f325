-- wrk: GET /api/bikes/:id under a flood (bench/flood), a random benchmark user per request,
-- counting every status and every non-200 answer that is not JSON (goal: 200 or a JSON 503).
local targets = {}
for line in io.lines(os.getenv("TARGETS")) do
  local token, bike = line:match("^(%S+) (%S+)$")
  if token then targets[#targets + 1] = { token, bike } end
end

local threads = {}
setup = function(thread) threads[#threads + 1] = thread end

-- Per-thread counters are globals named st_<status>: thread:get copies numbers, not tables.
notjson = 0
request = function()
  local t = targets[math.random(#targets)]
  return wrk.format("GET", "/api/bikes/" .. t[2], { ["Authorization"] = "Bearer " .. t[1] })
end

response = function(status, headers, body)
  local k = "st_" .. status
  _G[k] = (_G[k] or 0) + 1
  if status ~= 200 then
    local ct = headers["Content-Type"] or ""
    local ra = headers["Retry-After"]
    if not ct:find("^application/json") or body:sub(1, 1) ~= "{" or (status == 503 and not ra) then
      notjson = notjson + 1
    end
  end
end

done = function(summary, latency, requests)
  local total, bad = {}, 0
  for _, th in ipairs(threads) do
    for k = 100, 599 do
      local v = th:get("st_" .. k)
      if v then total[k] = (total[k] or 0) + v end
    end
    bad = bad + (th:get("notjson") or 0)
  end
  local keys = {}
  for k in pairs(total) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do io.write(string.format("status %d: %d\n", k, total[k])) end
  io.write(string.format("non-200 answers not JSON (or a 503 without Retry-After): %d\n", bad))
  local e = summary.errors
  io.write(string.format("socket errors: connect %d, read %d, write %d, timeout %d\n",
    e.connect, e.read, e.write, e.timeout))
  io.write(string.format("latency p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
  io.write(string.format("requests: %d in %.1f s (%.0f/s)\n", summary.requests,
    summary.duration / 1e6, summary.requests / (summary.duration / 1e6)))
end
