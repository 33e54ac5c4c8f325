-- wrk: the same GET every time, HISTORY_PATH with HISTORY_TOKEN (bench/history).
wrk.method = "GET"
wrk.path = os.getenv("HISTORY_PATH")
wrk.headers["Authorization"] = "Bearer " .. os.getenv("HISTORY_TOKEN")
