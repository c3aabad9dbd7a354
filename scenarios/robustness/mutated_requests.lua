-- ROB-002: mutated requests (overflows, bad encodings, bad numbers in every header) never crash
-- or wedge the proxy; it keeps serving other peers. Mutations are reproducible with --seed.
local sip = require("sip")

local HEADERS = { "Via", "Max-Forwards", "From", "To", "Call-ID", "CSeq", "Content-Length",
                  "Content-Type" }
local NUMBERS = { "-1", "4294967296", "99999999999999999999", "0x10", "1e9", "", " ", "+7", "007",
                  "18446744073709551616" }

local function mutate(text)
  local kind = math.random(1, 6)
  if kind == 1 then        -- flip random bytes
    local t = { text:byte(1, -1) }
    for _ = 1, math.random(1, 8) do
      local i = math.random(1, #t)
      t[i] = math.random(0, 255)
    end
    return string.char(table.unpack(t)), "byte flips"
  elseif kind == 2 then    -- a bad number in a numeric header
    local h = ({ "Max-Forwards", "CSeq", "Content-Length" })[math.random(1, 3)]
    local v = NUMBERS[math.random(1, #NUMBERS)]
    local pat = "\r\n" .. h .. ": [^\r]*"
    local rep = "\r\n" .. h .. ": " .. (h == "CSeq" and (v .. " MESSAGE") or v)
    return (text:gsub(pat, rep, 1)), h .. " = '" .. v .. "'"
  elseif kind == 3 then    -- overflow: a huge header value
    local h = HEADERS[math.random(1, #HEADERS)]
    local big = string.rep(string.char(math.random(65, 90)), math.random(2000, 12000))
    return (text:gsub("\r\n" .. h .. ": ", "\r\n" .. h .. ": " .. big, 1)), "overflow in " .. h
  elseif kind == 4 then    -- bad encoding: invalid UTF-8 and control bytes in a header
    local h = HEADERS[math.random(1, #HEADERS)]
    return (text:gsub("\r\n" .. h .. ": ", "\r\n" .. h .. ": \255\254\0\1\127", 1)), "bad bytes in " .. h
  elseif kind == 5 then    -- a header repeated many times
    local h = HEADERS[math.random(1, #HEADERS)]
    local line = text:match("\r\n(" .. h .. ": [^\r]*)") or (h .. ": x")
    local rep = string.rep("\r\n" .. line, math.random(20, 200))
    return (text:gsub("\r\n" .. h .. ": [^\r]*", rep:sub(3), 1)), h .. " repeated"
  else                     -- truncated in the middle
    return text:sub(1, math.random(1, #text - 1)), "truncated"
  end
end

return scenario {
  title  = "120 mutated requests from a provider: no crash, no wedge, other peers served throughout",
  covers = { "ROB-002" },
  tags   = { "robustness", "fuzz" },
  waive  = {
    { "well-formed", flow = "sip.aol.test -> ap.contoso.test",
      why = "the mutated requests are malformed on purpose" },
    { "transactions-end", flow = "sip.aol.test -> ap.contoso.test",
      why = "malformed requests are refused or dropped" },
  },
  timeout = 150,
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local carol = lab.provider("yahoo"):user("carol@yahoo.test")
    alice:allow(carol)
    local aol = lab.provider("aol")
    local base = sip.request{ from = "bob@aol.test", to = "alice@contoso.test", body = "fuzz me" }
    for i = 1, 120 do
      local text, what = mutate(base)
      local r = aol:send_raw(text, { timeout = 0.3 })
      log(string.format("#%d %s -> %s%s", i, what, r.final and r.final.status or "no answer",
        r.closed and " (closed)" or ""))
      expect(lab.sut:running(), "accessproxy alive after mutation #" .. i .. " (" .. what .. ")")
      if i % 20 == 0 then   -- another peer is still served meanwhile
        expect_eq(carol:send_message(alice, "still served " .. i), 200,
          "Yahoo! MESSAGE after mutation #" .. i)
        alice:expect_message{ from = carol }
      end
    end
  end,
}
