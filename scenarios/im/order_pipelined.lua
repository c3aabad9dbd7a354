-- IM-003 "in order", under pressure: MESSAGEs sent without waiting for answers, pipelined back
-- to back on one connection per sender, and several senders on several connections at once, in
-- both directions, one sender also on two connections at once (outward on a fresh proxy, so the first ones wait for DNS and a new connection
-- while the rest pile up behind them). Each sender's messages must arrive in the order sent and
-- exactly once: at the receiving user, and on the wire of the receiving leg.
local sip = require("sip")
local wire = require("wire")

local N = 40

local function tpl(from, to, via_host, tag)
  return sip.request{ from = from, to = to, via_host = via_host, call_id = tag .. "-{n}@order.test",
    body = tag .. " #{n}" }
end

-- The sequence numbers of `tag` in the bodies of messages, in the order given.
local function seqs(bodies, tag)
  local out = {}
  for _, b in ipairs(bodies) do
    local k = b:match("^" .. tag .. " #(%d+)$")
    if k then out[#out + 1] = tonumber(k) end
  end
  return out
end

local function expect_in_order(got, tag, where)
  expect_eq(#got, N, string.format("messages of %s %s", tag, where))
  for i = 1, #got do
    if got[i] ~= i then
      fail(string.format("%s %s: message #%d arrived in place %d (order: %s)", tag, where, got[i], i,
        table.concat(got, ",")))
    end
  end
end

-- Takes every message from the user's inbox, oldest first: their bodies.
local function drain(user, count)
  local out = {}
  for i = 1, count do out[i] = user:expect_message{ timeout = 10 }.body end
  expect_eq(user:inbox_count(), 0, user.aor .. ": messages beyond the " .. count .. " expected")
  return out
end

return scenario {
  title  = "pipelined MESSAGEs, one connection per sender and several at once, arrive in order per sender both ways",
  covers = { "IM-003" },
  tags   = { "im" },
  timeout = 60,
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob = lab.provider("aol"):user("bob@aol.test")
    local dan = lab.provider("msn"):user("dan@msn.test")
    local carol = lab.provider("yahoo"):user("carol@yahoo.test")
    alice:allow(bob)
    alice:allow(carol)
    local ent, aol, yahoo = lab.enterprise, lab.provider("aol"), lab.provider("yahoo")
    local flows = {
      { site = ent, tag = "out-a", from = "alice@contoso.test", to = "bob@aol.test", via = "pool.contoso.test", leg = "external" },
      { site = ent, tag = "out-c", from = "carol@contoso.test", to = "bob@aol.test", via = "pool.contoso.test", leg = "external" },
      { site = ent, tag = "out-d", from = "dave@contoso.test", to = "dan@msn.test", via = "pool.contoso.test", leg = "external" },
      { site = aol, tag = "in-b", from = "bob@aol.test", to = "alice@contoso.test", via = "sip.aol.test", leg = "internal" },
      -- the same sender on a second connection at the same time: in order per connection
      { site = aol, tag = "in-b2", from = "bob@aol.test", to = "alice@contoso.test", via = "sip.aol.test", leg = "internal" },
      { site = yahoo, tag = "in-c", from = "carol@yahoo.test", to = "alice@contoso.test", via = "sip.yahoo.test", leg = "internal" },
    }
    local branches = {}
    for _, f in ipairs(flows) do
      branches[#branches + 1] = function()
        f.result = f.site:flood(tpl(f.from, f.to, f.via, f.tag), N, { timeout = 30 })
      end
    end
    lab:parallel(table.unpack(branches))
    for _, f in ipairs(flows) do
      local r = f.result
      log(string.format("%s: sent %d, answered %d, ok %d, closed %s", f.tag, r.sent, r.answered, r.ok, tostring(r.closed)))
      expect_eq(r.ok, N, f.tag .. ": 200s to the pipelined MESSAGEs")
    end

    -- at the receiving users, per sender
    local at_bob, at_dan, at_alice = drain(bob, 2 * N), drain(dan, N), drain(alice, 3 * N)
    expect_in_order(seqs(at_bob, "out%-a"), "out-a", "at bob")
    expect_in_order(seqs(at_bob, "out%-c"), "out-c", "at bob")
    expect_in_order(seqs(at_dan, "out%-d"), "out-d", "at dan")
    expect_in_order(seqs(at_alice, "in%-b"), "in-b", "at alice")
    expect_in_order(seqs(at_alice, "in%-b2"), "in-b2", "at alice")
    expect_in_order(seqs(at_alice, "in%-c"), "in-c", "at alice")

    -- on the wire of the receiving leg, per sender
    for _, f in ipairs(flows) do
      local bodies = {}
      for _, m in ipairs(lab.capture:sip{ leg = f.leg, method = "MESSAGE", from = f.from, to = f.to }) do
        bodies[#bodies + 1] = wire.body(m.text)
      end
      expect_in_order(seqs(bodies, f.tag:gsub("%-", "%%-")), f.tag, "on the " .. f.leg .. " leg")
    end
    wire.decrypted(lab, "internal")
    wire.decrypted(lab, "external")
  end,
}
