-- AUD-005: the usage report counts MESSAGEs per user and per provider over a period.
return scenario {
  title  = "apctl usage counts messages per user and per provider",
  covers = { "AUD-005" },
  tags   = { "audit", "workers" },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local carol = lab.enterprise:user("carol@contoso.test")
    local eve = lab.enterprise:user("eve@contoso.test")
    local bob = lab.provider("aol"):user("bob@aol.test")
    local pat = lab.provider("yahoo"):user("pat@yahoo.test")
    carol:allow(bob)
    for i = 1, 3 do
      expect_eq(alice:send_message(bob, "a" .. i), 200, "alice -> bob " .. i)
      bob:expect_message{ from = alice }
    end
    expect_eq(alice:send_message(pat, "to yahoo"), 200, "alice -> pat")
    pat:expect_message{ from = alice }
    expect_eq(bob:send_message(carol, "in"), 200, "bob -> carol")
    carol:expect_message{ from = bob }
    expect_eq(eve:send_message(bob, "no"), 403, "eve -> bob (not enabled)")
    lab:sleep(0.3)
    local rc, out = lab:apctl("usage", "--since", "-1h")
    expect_eq(rc, 0, "apctl usage (" .. out .. ")")
    local function row(kind, name)
      for line in out:gmatch("[^\n]+") do
        local k, n, i, o, r = line:match("^(%S+)%s+(%S+)%s+(%d+)%s+(%d+)%s+(%d+)")
        if k == kind and n == name then return tonumber(i), tonumber(o), tonumber(r) end
      end
      fail("no usage row " .. kind .. " " .. name .. " in:\n" .. out)
    end
    local i, o, r = row("user", "alice@contoso.test")
    expect_eq(o, 4, "alice's outbound messages"); expect_eq(i, 0, "alice's inbound")
    i, o = row("user", "carol@contoso.test")
    expect_eq(i, 1, "carol's inbound messages"); expect_eq(o, 0, "carol's outbound")
    i, o, r = row("user", "eve@contoso.test")
    expect_eq(r, 1, "eve's refused messages")
    i, o, r = row("provider", "aol")
    -- messages_out counts every attempt towards the provider, refused ones included; the
    -- refused column says how many of them were refused (eve's)
    expect_eq(o, 4, "messages towards aol")
    expect_eq(r, 1, "refused towards aol")
    expect_eq(i, 1, "messages from aol")
    i, o = row("provider", "yahoo")
    expect_eq(o, 1, "messages towards yahoo")
    -- a period before any traffic counts nothing
    rc, out = lab:apctl("usage", "--until", "-1h")
    expect(not out:find("alice@contoso.test", 1, true), "nothing counted before the traffic:\n" .. out)
  end,
}
