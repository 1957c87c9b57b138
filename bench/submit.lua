-- wrk script: POST a survey submission (or the floor's insert) with a new UUID per request.
--
--   wrk ... -s bench/submit.lua http://host:port -- <path with %s> <body file> [token]
--
-- The path's %s becomes a random version-4 UUID, so every request stores a new response.
-- The body (JSON) is read once from the file; the bearer token is optional.

local path_template, body, token

local function uuid4()
  local hex = "0123456789abcdef"
  local out = {}
  for i = 1, 36 do
    if i == 9 or i == 14 or i == 19 or i == 24 then
      out[i] = "-"
    elseif i == 15 then
      out[i] = "4"
    elseif i == 20 then
      local n = math.random(9, 12) -- the variant: 8, 9, a or b
      out[i] = hex:sub(n, n)
    else
      local n = math.random(1, 16)
      out[i] = hex:sub(n, n)
    end
  end
  return table.concat(out)
end

function init(args)
  path_template = args[1]
  local file = assert(io.open(args[2], "r"))
  body = file:read("*a")
  file:close()
  token = args[3]
  -- Each wrk thread has its own Lua state: seed them apart.
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
end

function request()
  local headers = { ["Content-Type"] = "application/json" }
  if token and token ~= "" then
    headers["Authorization"] = "Bearer " .. token
  end
  return wrk.format("POST", string.format(path_template, uuid4()), headers, body)
end
