-- wrk: each thread (one connection) holds its next seat, then confirms the hold.
-- Seat ids come from seats.txt (one per line), tokens from tokens.txt.
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local function lines(path)
  local t = {}
  for l in io.lines(path) do t[#t + 1] = l end
  return t
end

function init(args)
  seats = lines(args[1])
  tokens = lines(args[2])
  event = args[3]
  per_thread = math.floor(#seats / 64)
  token = tokens[(id % #tokens) + 1]
  n = 0
  hold = nil
  confirmed = 0
end

function request()
  local headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
  if hold then
    return wrk.format("POST", "/api/v1/bookings/confirm", headers,
      '{"hold_id":"' .. hold .. '","event_id":"' .. event .. '","payment_method":"card"}')
  end
  n = n + 1
  local seat = seats[id * per_thread + ((n - 1) % per_thread) + 1]
  return wrk.format("POST", "/api/v1/seats/hold", headers,
    '{"event_id":"' .. event .. '","seat_ids":["' .. seat .. '"]}')
end

function response(status, headers, body)
  if hold then
    if status == 201 then confirmed = confirmed + 1 end
    hold = nil
  elseif status == 200 then
    hold = body:match('"hold_id":%s*"([^"]+)"')
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("confirmed") end
  io.write(string.format("confirmed %d\n", total))
end
