-- wrk: a gate rush (tests/bench/checkin-rush.sh).  Run with as many threads
-- as connections (-t64 -c64): each thread is one scanner with its own
-- connection and its own codes (file <prefix><id>, one code a line, distinct
-- from every other scanner's), posting each once to /checkin/validate as
-- door staff.  When its codes are done the thread writes <done_dir>/<id>
-- and stops; the script interrupts wrk once every scanner is done, so
-- that wrk's duration is the rush's.  Answers are counted by status.
-- args: codes prefix, token, event id, done dir
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  codes = {}
  for l in io.lines(args[1] .. id) do codes[#codes + 1] = l end
  headers = { ["Authorization"] = "Bearer " .. args[2], ["Content-Type"] = "application/json" }
  event = args[3]
  done_dir = args[4]
  gate = "Gate " .. (id % 8)
  device = "scanner-" .. id
  answered = 0
  checked_in = 0
  other = 0
  first_other = ""
end

-- the next code is the one after the last answered: wrk calls thread 0's
-- request() once more than it sends (checking the script), and a request
-- sent again on a new connection after a lost answer keeps its code (its
-- second answer is then ALREADY_CHECKED_IN, counted as unexpected)
function request()
  local code = codes[answered + 1] or codes[#codes]
  return wrk.format("POST", "/api/v1/checkin/validate", headers,
    '{"code":"' .. code .. '","event_id":"' .. event .. '","gate":"' .. gate .. '","device_id":"' .. device .. '"}')
end

function response(status, hdrs, body)
  answered = answered + 1
  if status == 200 and body:find('"CHECKED_IN"', 1, true) then
    checked_in = checked_in + 1
  else
    other = other + 1
    if first_other == "" then first_other = status .. " " .. body:sub(1, 300) end
  end
  if answered >= #codes then
    io.open(done_dir .. "/" .. id, "w"):close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local c, o, a, shown = 0, 0, 0, false
  for _, t in ipairs(threads) do
    c = c + t:get("checked_in")
    o = o + t:get("other")
    a = a + t:get("answered")
    if not shown and t:get("first_other") ~= "" then
      io.write("first unexpected answer: " .. t:get("first_other") .. "\n")
      shown = true
    end
  end
  io.write(string.format("answered %d\nchecked_in %d\nunexpected %d\n", a, c, o))
end
