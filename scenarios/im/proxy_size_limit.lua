-- IM-004: the proxy's own body size limit (not a provider's). A MESSAGE whose body is one byte
-- over the limit is answered 413 by the proxy itself (its Warning names ap.contoso.test) and
-- nothing of it crosses the other leg (checked on the decrypted capture); a body of exactly the
-- limit crosses in both directions; traffic after the refusals is served.
--
-- The limit is read from the SUT's generated configuration when it names one (a key with
-- "body" in its name, e.g. max_body = 32768); without one, the proxy's documented default
-- (32 KiB) applies. It lies below the 64 KiB framing limit, so the 413 is the proxy's decision
-- and not a closed connection. The fake providers' own limits (2 to 8 kB) are far below it: a
-- body at the limit sent outward is answered 413 by the provider, without the proxy's Warning.
local sip = require("sip")

local DEFAULT_LIMIT = 32768

local function configured_limit(lab)
  local f = io.open(lab.dir .. "/accessproxy.conf", "r")
  if not f then return DEFAULT_LIMIT, "default (no config file)" end
  local text = f:read("a")
  f:close()
  for line in text:gmatch("[^\n]+") do
    local k, v = line:match("^%s*([%w_]*body[%w_]*)%s*=%s*(%d+)%s*$")
    if k then return tonumber(v), "config key " .. k end
  end
  return DEFAULT_LIMIT, "default (no body limit in the config)"
end

-- Whether the proxy itself answered: its Warning (RFC 3261 20.43) names its external FQDN.
local function proxy_warning(text)
  for _, w in ipairs(sip.headers(text, "Warning")) do
    if w:match("^%d+%s+ap%.contoso%.test%s") then return w end
  end
  return nil
end

local function leg_decrypted(lab, leg)
  local flows = lab.capture:flows{ leg = leg }
  expect(#flows > 0, "a flow on the " .. leg .. " leg")
  for _, f in ipairs(flows) do
    expect(f.decrypted, string.format("%s leg flow %s -> %s decrypted (%s)", leg, f.client,
      f.server, tostring(f.error)))
  end
end

return scenario {
  title  = "the proxy's own body limit: 413 from the proxy one byte over, nothing forwarded; exactly the limit passes",
  covers = { "IM-004" },
  tags   = { "im" },
  timeout = 60,
  sut_kinds = { "accessproxy" },  -- reads accessproxy.conf and its documented default limit
  run = function(lab)
    local limit, whence = configured_limit(lab)
    log(string.format("body limit %d bytes (%s)", limit, whence))
    local alice = lab.enterprise:user("alice@contoso.test")
    local dave = lab.enterprise:user("dave@contoso.test")
    local bob = lab.provider("aol"):user("bob@aol.test")
    dave:allow(bob)

    -- inbound, one byte over: the proxy answers, the enterprise never sees it
    local over_in = "over-in-413@aol.test"
    local r = lab.provider("aol"):send_raw(sip.request{ from = "bob@aol.test", to = "dave@contoso.test",
      via_host = "sip.aol.test", call_id = over_in, body = string.rep("i", limit + 1) }, { timeout = 5 })
    expect(not r.closed or r.final, "an answer to a body of limit+1 bytes, not a closed connection")
    expect_eq(r.final and r.final.status, 413, "inbound MESSAGE with limit+1 body bytes")
    expect(proxy_warning(r.final.text), "the 413 carries the proxy's Warning (399 ap.contoso.test ...): "
      .. r.final.text:sub(1, 400))
    lab.capture:expect{ leg = "internal", call_id = over_in, count = 0 }
    expect_eq(dave:inbox_count(), 0, "messages dave got from the refused MESSAGE")

    -- inbound, exactly the limit: delivered whole
    local at_in = "at-limit-in@aol.test"
    r = lab.provider("aol"):send_raw(sip.request{ from = "bob@aol.test", to = "dave@contoso.test",
      via_host = "sip.aol.test", call_id = at_in, body = string.rep("j", limit) }, { timeout = 5 })
    expect_eq(r.final and r.final.status, 200, "inbound MESSAGE with exactly the limit")
    expect(not proxy_warning(r.final.text), "the 200 is the enterprise's, with no Warning of the proxy")
    local m = dave:expect_message{ from = "bob@aol.test" }
    expect(#m.body > 0 and m.body == string.rep("j", #m.body), "dave got the body (the user agent keeps its first 4 kB)")
    local fwd = lab.capture:expect{ leg = "internal", method = "MESSAGE", call_id = at_in, count = 1, within = 5 }
    expect_eq(sip.header(fwd[1].text, "Content-Length"), tostring(limit), "Content-Length on the internal leg")

    -- outbound, one byte over: the proxy answers, no provider sees it
    local over_out = "over-out-413@contoso.test"
    r = lab.enterprise:send_raw(sip.request{ from = "alice@contoso.test", to = "bob@aol.test",
      via_host = "pool.contoso.test", call_id = over_out, body = string.rep("o", limit + 1) }, { timeout = 5 })
    expect_eq(r.final and r.final.status, 413, "outbound MESSAGE with limit+1 body bytes")
    expect(proxy_warning(r.final.text), "the outbound 413 carries the proxy's Warning: " .. r.final.text:sub(1, 400))
    lab.capture:expect{ leg = "external", call_id = over_out, count = 0 }
    expect_eq(bob:inbox_count(), 0, "messages bob got from the refused MESSAGE")

    -- outbound, exactly the limit: it crosses; AOL (2048 bytes) refuses it itself
    local at_out = "at-limit-out@contoso.test"
    r = lab.enterprise:send_raw(sip.request{ from = "alice@contoso.test", to = "bob@aol.test",
      via_host = "pool.contoso.test", call_id = at_out, body = string.rep("p", limit) }, { timeout = 5 })
    fwd = lab.capture:expect{ leg = "external", method = "MESSAGE", call_id = at_out, count = 1, within = 5 }
    expect_eq(sip.header(fwd[1].text, "Content-Length"), tostring(limit), "Content-Length on the external leg")
    expect_eq(r.final and r.final.status, 413, "AOL's own answer to a body over its 2048 bytes")
    expect(not proxy_warning(r.final.text), "AOL's 413 relayed, not one of the proxy's: " .. r.final.text:sub(1, 400))

    -- the user agents' path, and nothing else harmed
    expect_eq(alice:send_message(bob, string.rep("u", limit + 1)), 413, "alice's MESSAGE of limit+1 bytes")
    expect_eq(alice:send_message(bob, "small after the refusals"), 200, "a small MESSAGE after")
    bob:expect_message{ from = alice, contains = "small after the refusals" }
    expect_eq(bob:inbox_count(), 0, "messages bob got beyond the small one")

    -- every "nothing crossed" above counted only on decrypted legs
    leg_decrypted(lab, "internal")
    leg_decrypted(lab, "external")
  end,
}
