-- AUD-002: with archive on, the IM body is archived; with no-bodies only its type and length.
-- The body is looked for in the state database files themselves (state.db and its WAL).
local function db_has(lab, needle)
  for _, suffix in ipairs({ "", "-wal" }) do
    local f = io.open(lab.dir .. "/state.db" .. suffix, "rb")
    if f then
      local data = f:read("a")
      f:close()
      if data:find(needle, 1, true) then return true end
    end
  end
  return false
end

return scenario {
  title  = "archive on keeps the message body; archive no-bodies keeps its length only",
  covers = { "AUD-002" },
  tags   = { "audit", "workers" },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob = lab.provider("aol"):user("bob@aol.test")
    local rc, out = lab:apctl("settings", "set", "archive", "on")
    expect_eq(rc, 0, "apctl settings set archive on (" .. out .. ")")
    local kept = "archived-body-" .. math.random(100000, 999999)
    expect_eq(alice:send_message(bob, kept), 200, "MESSAGE with archive on")
    bob:expect_message{ contains = kept }
    lab:sleep(0.3)
    rc, out = lab:apctl("audit", "--user", "alice@contoso.test")
    expect(out:find(#kept .. " bytes", 1, true), "the archive row has the body's length:\n" .. out)
    expect(db_has(lab, kept), "the body '" .. kept .. "' is in the archive")

    rc, out = lab:apctl("settings", "set", "archive", "no-bodies")
    expect_eq(rc, 0, "apctl settings set archive no-bodies (" .. out .. ")")
    local hidden = "unarchived-body-" .. math.random(100000, 999999)
    expect_eq(alice:send_message(bob, hidden), 200, "MESSAGE with archive no-bodies")
    bob:expect_message{ contains = hidden }
    lab:sleep(0.3)
    rc, out = lab:apctl("audit", "--user", "alice@contoso.test", "--limit", "1")
    expect(out:find("no body, " .. #hidden .. " bytes", 1, true),
      "the newest archive row has no body, only its length:\n" .. out)
    expect(not db_has(lab, hidden), "the body '" .. hidden .. "' is not stored anywhere")
  end,
}
