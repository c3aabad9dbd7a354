-- AUD-002: archiving per user. With global archiving off, a user with the archive flag has her
-- messages archived, both ways; a user without it does not; dropping the flag stops it.
local function archived(lab, user, len)
  local out
  for _ = 1, 30 do  -- the writer thread records shortly after the 200
    local _
    _, out = lab:apctl("audit", "--user", user)
    if out:find(len .. " bytes", 1, true) then return true, out end
    lab:sleep(0.1)
  end
  return false, out
end

return scenario {
  title  = "Per-user archiving: the flagged user's messages are archived, the others' are not",
  covers = { "AUD-002" },
  tags   = { "audit", "workers" },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local carol = lab.enterprise:user("carol@contoso.test")
    local bob = lab.provider("aol"):user("bob@aol.test")
    alice:allow(bob)
    local rc, out = lab:apctl("settings", "set", "archive", "off")
    expect_eq(rc, 0, "apctl settings set archive off (" .. out .. ")")
    rc, out = lab:apctl("users", "archive", "alice@contoso.test")
    expect_eq(rc, 0, "apctl users archive alice (" .. out .. ")")

    local a_out = string.format("alice-out-%06d", math.random(0, 999999))
    local a_in = string.format("alice-in-body-%06d", math.random(0, 999999))
    local c_out = string.format("carol-out-body-long-%06d", math.random(0, 999999))
    expect_eq(alice:send_message(bob, a_out), 200, "MESSAGE alice -> bob")
    expect_eq(bob:send_message(alice, a_in), 200, "MESSAGE bob -> alice")
    expect_eq(carol:send_message(bob, c_out), 200, "MESSAGE carol -> bob")
    local ok, o = archived(lab, "alice@contoso.test", #a_out)
    expect(ok, "alice's outbound MESSAGE (" .. #a_out .. " bytes) archived:\n" .. o)
    ok, o = archived(lab, "alice@contoso.test", #a_in)
    expect(ok, "bob's MESSAGE to alice (" .. #a_in .. " bytes) archived:\n" .. o)
    local _, c = lab:apctl("audit", "--user", "carol@contoso.test")
    expect(c:find("forwarded", 1, true), "carol's MESSAGE is on record:\n" .. c)
    expect(not c:find(#c_out .. " bytes", 1, true), "carol's MESSAGE is not archived:\n" .. c)

    rc, out = lab:apctl("users", "noarchive", "alice@contoso.test")
    expect_eq(rc, 0, "apctl users noarchive alice (" .. out .. ")")
    local later = string.format("alice-after-noarchive-%06d", math.random(0, 999999))
    expect_eq(alice:send_message(bob, later), 200, "MESSAGE alice -> bob after noarchive")
    lab:sleep(0.5)
    _, o = lab:apctl("audit", "--user", "alice@contoso.test")
    expect(not o:find(#later .. " bytes", 1, true), "alice's MESSAGE after noarchive is not archived:\n" .. o)
  end,
}
