-- wrk script: each request as another resident, and (with %d in the path) on another idea.
--
--   wrk ... -s bench/rotate.lua http://host:port -- \
--       <method> <path, %d = idea id> <tokens file> <first idea id> <ideas> <offset>
--
-- Request n of wrk thread t is pair number offset + t * 100000 + n, spread over
-- residents x ideas by a multiplication modulo their product with a prime that does not
-- divide it (a bijection): concurrent requests are different residents on different ideas,
-- and no pair comes twice as long as the offsets of two runs are 1,000,000 apart. The
-- tokens file holds one bearer token per line (one line: always the same resident).

local method, path, tokens, first_idea, ideas, offset
local counter = 0
local threads = 0
-- Prime, above residents x ideas' factors the script is run with (checked by idea_list.py).
local STRIDE = 1000003

function setup(thread)
  thread:set("thread_number", threads)
  threads = threads + 1
end

function init(args)
  method, path = args[1], args[2]
  tokens = {}
  for line in io.lines(args[3]) do
    if line ~= "" then
      tokens[#tokens + 1] = line
    end
  end
  first_idea, ideas, offset = tonumber(args[4]), tonumber(args[5]), tonumber(args[6])
end

function request()
  local n = offset + thread_number * 100000 + counter
  counter = counter + 1
  -- Products stay below 2^53, so fmod on doubles is exact.
  local pair = math.fmod(n * STRIDE, #tokens * ideas)
  local resident = math.floor(pair / ideas)
  local idea = first_idea + math.fmod(pair, ideas)
  local headers = { ["Authorization"] = "Bearer " .. tokens[resident + 1] }
  return wrk.format(method, string.format(path, idea), headers)
end
