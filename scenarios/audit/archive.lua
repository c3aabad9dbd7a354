-- AUD-002: IM content is archived when enabled, globally or per user, optionally without
-- bodies. Read back with `apctl archive list`, as an administrator would:
--   per user (archive = off): alice has the archive flag, carol not: alice's MESSAGEs both ways
--   are archived with their bodies, carol's are not; once alice's flag is cleared hers are not
--   either; globally (archive = on) carol's are; archive = no-bodies keeps type and length only
--   and the body is nowhere in the proxy's state (apctl export).
local function marker(tag)
  return tag .. "-" .. math.random(100000, 999999)
end

-- the archived messages of user, as a list of { body=, body_kept=, length=, direction= }
local function archived(lab, user)
  local rc, out = lab:apctl("archive", "list", "--user", user, "--limit", "0", "--json")
  expect_eq(rc, 0, "apctl archive list --user " .. user .. " (" .. out .. ")")
  local rows = {}
  for obj in out:gmatch("{(.-)}") do
    rows[#rows + 1] = {
      body = obj:match('"body":"(.-)"'),
      body_kept = obj:match('"body_kept":(%a+)') == "true",
      length = tonumber(obj:match('"length":(%d+)')),
      direction = obj:match('"direction":"(%a+)"'),
      text = obj,
    }
  end
  return rows, out
end

local function find(rows, body)
  for _, r in ipairs(rows) do
    if r.body == body then return r end
  end
end

-- the writer thread records after forwarding (archiving is not critical here): waits until
-- the archive of user holds n rows, then returns them
local function settle(lab, user, n)
  local rows, out
  for _ = 1, 50 do
    rows, out = archived(lab, user)
    if #rows >= n then break end
    lab:sleep(0.1)
  end
  return rows, out
end

local function exchange(alice, bob, tag)
  local a, b = marker(tag .. "-out"), marker(tag .. "-in")
  expect_eq(alice:send_message(bob, a), 200, alice.aor .. " -> " .. bob.aor .. " (" .. tag .. ")")
  bob:expect_message{ from = alice, contains = a }
  expect_eq(bob:send_message(alice, b), 200, bob.aor .. " -> " .. alice.aor .. " (" .. tag .. ")")
  alice:expect_message{ from = bob, contains = b }
  return a, b
end

return scenario {
  title  = "Per-user archiving both ways, off again per user, global on, no-bodies: read back with apctl archive",
  covers = { "AUD-002" },
  tags   = { "audit", "workers" },
  timeout = 60,
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local carol = lab.enterprise:user("carol@contoso.test")
    local bob = lab.provider("aol"):user("bob@aol.test")
    local pat = lab.provider("yahoo"):user("pat@yahoo.test")
    alice:allow(bob) -- TRUST-007: unverified IM reaches them from their allow lists only
    carol:allow(pat)

    -- per user, with the global switch off
    local _, settings = lab:apctl("settings", "list")
    expect(settings:find("archive%s+off"), "archive is off globally to begin with:\n" .. settings)
    local rc, out = lab:apctl("users", "archive", "alice@contoso.test")
    expect_eq(rc, 0, "apctl users archive alice (" .. out .. ")")
    local a_out, a_in = exchange(alice, bob, "alice-flagged")
    local c_out, c_in = exchange(carol, pat, "carol-unflagged")
    -- a marker of the flagged exchange after carol's: once it is on record, carol's would be
    local l_out, l_in = exchange(alice, bob, "alice-late")
    local rows = settle(lab, "alice@contoso.test", 4)
    for _, want in ipairs({ { a_out, "out" }, { a_in, "in" }, { l_out, "out" }, { l_in, "in" } }) do
      local r = find(rows, want[1])
      expect(r, "alice's MESSAGE '" .. want[1] .. "' archived with its body")
      if r then
        expect_eq(r.direction, want[2], "direction of the archived '" .. want[1] .. "'")
        expect_eq(r.length, #want[1], "length of the archived '" .. want[1] .. "'")
      end
    end
    local crows, craw = archived(lab, "carol@contoso.test")
    expect_eq(#crows, 0, "archived MESSAGEs of carol (no flag, archive off): " .. craw)

    -- the flag cleared: alice's next MESSAGEs are not archived
    rc, out = lab:apctl("users", "noarchive", "alice@contoso.test")
    expect_eq(rc, 0, "apctl users noarchive alice (" .. out .. ")")
    local n_out, n_in = exchange(alice, bob, "alice-unflagged")
    -- globally on: carol's MESSAGEs are archived now, with their bodies
    rc, out = lab:apctl("settings", "set", "archive", "on")
    expect_eq(rc, 0, "apctl settings set archive on (" .. out .. ")")
    local g_out, g_in = exchange(carol, pat, "carol-global")
    crows = settle(lab, "carol@contoso.test", 2)
    expect(find(crows, g_out) and find(crows, g_in),
      "carol's MESSAGEs both ways archived with archive on: " .. select(2, archived(lab, "carol@contoso.test")))
    expect(not find(crows, c_out) and not find(crows, c_in),
      "carol's MESSAGEs from before archive was on are not archived")
    rows = archived(lab, "alice@contoso.test")
    expect(not find(rows, n_out) and not find(rows, n_in),
      "alice's MESSAGEs after her flag was cleared (archive then off) are not archived")
    expect_eq(#rows, 4, "alice's archived MESSAGEs (the four while flagged)")

    -- no-bodies: type and length kept, the body nowhere
    rc, out = lab:apctl("settings", "set", "archive", "no-bodies")
    expect_eq(rc, 0, "apctl settings set archive no-bodies (" .. out .. ")")
    local hidden = marker("unarchived-body")
    expect_eq(alice:send_message(bob, hidden), 200, "MESSAGE with archive no-bodies")
    bob:expect_message{ contains = hidden }
    rows = settle(lab, "alice@contoso.test", 5)
    local newest = rows[1] or {}
    expect(newest.body == nil and not newest.body_kept and newest.length == #hidden,
      "the newest archive row has no body, only its length " .. #hidden .. ": " .. tostring(newest.text))
    -- apctl export dumps every state table; blobs as x'hex'
    local function hex(t) return (t:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end
    local _, export = lab:apctl("export")
    expect(export:find(hex(a_out), 1, true), "apctl export holds the archived body '" .. a_out .. "'")
    expect(not export:find(hidden, 1, true) and not export:find(hex(hidden), 1, true),
      "the body '" .. hidden .. "' is nowhere in the proxy's state")
  end,
}
