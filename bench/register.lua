-- wrk script: PUT one JSON body to one path, each request with the next resident's token.
--
--   wrk ... -s bench/register.lua http://host:port -- <path> <body file> <tokens file> <threads>
--
-- <threads> is wrk's -t. Request n of wrk thread t takes token number t + n * threads of the
-- file (one bearer token per line), wrapping around at its end: the threads deal the tokens
-- out in turn, so while the file lasts every request is another resident, and no token is in
-- flight twice at once. The answers are counted by status and printed after wrk's summary as
-- "status <code>: <count>" lines (201: registered now; 200: registered already).

local path, body, tokens, threads
local counter = 0
-- Global, so that done() can read each thread's copy with thread:get.
statuses = {}
local started = {}
local thread_count = 0

function setup(thread)
  thread:set("thread_number", thread_count)
  thread_count = thread_count + 1
  started[#started + 1] = thread
end

function init(args)
  path = args[1]
  local file = assert(io.open(args[2], "r"))
  body = file:read("*a")
  file:close()
  tokens = {}
  for line in io.lines(args[3]) do
    if line ~= "" then
      tokens[#tokens + 1] = line
    end
  end
  threads = tonumber(args[4])
end

function request()
  local index = math.fmod(thread_number + counter * threads, #tokens)
  counter = counter + 1
  local headers = {
    ["Authorization"] = "Bearer " .. tokens[index + 1],
    ["Content-Type"] = "application/json",
  }
  return wrk.format("PUT", path, headers, body)
end

function response(status, _headers, _body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(_summary, _latency, _requests)
  local total = {}
  for _, thread in ipairs(started) do
    -- A copy of the thread's table, read from its own Lua state.
    local counted = thread:get("statuses") or {}
    for key, count in pairs(counted) do
      total[key] = (total[key] or 0) + count
    end
  end
  for key, count in pairs(total) do
    io.write(string.format("status %s: %d\n", key, count))
  end
end
