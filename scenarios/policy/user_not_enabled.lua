-- POL-001: a user not enabled for PIC gets 403 naming the reason; nothing reaches the provider;
-- it is audited. POL-002: a provider's request to such a user is refused and not delivered.
return scenario {
  title  = "eve (not enabled for PIC) is refused both ways, with the reason, audited, nothing crosses",
  covers = { "POL-001", "POL-002", "AUD-001" },
  tags   = { "policy" },
  run = function(lab)
    local eve = lab.enterprise:user("eve@contoso.test")
    local bob = lab.provider("aol"):user("bob@aol.test")
    local st, reason = eve:send_message(bob, "let me out")
    expect_eq(st, 403, "response to eve's MESSAGE")
    local rsp = lab.capture:expect{ leg = "internal", method = "MESSAGE", status = 403 }
    local text = rsp[1].text or ""
    local warning = text:match("\nWarning:%s*([^\r\n]*)") or ""
    expect(warning:find("eve@contoso.test", 1, true) and warning:find("not enabled", 1, true),
      "a Warning naming eve and why, got '" .. warning .. "' (reason phrase '" .. tostring(reason) .. "')")
    lab.capture:expect{ leg = "external", method = "MESSAGE", count = 0 }
    expect_eq(bob:inbox_count(), 0, "messages bob received")

    st = bob:send_message(eve, "let me in")
    expect(st == 403 or st == 404 or st == 480, "bob's MESSAGE to eve refused, got " .. tostring(st))
    lab.capture:expect{ leg = "internal", method = "MESSAGE", from = "bob@aol.test", count = 0 }
    expect_eq(eve:inbox_count(), 0, "messages eve received")

    lab:sleep(0.2)
    local rc, out = lab:apctl("audit", "--user", "eve@contoso.test", "--decision", "refused")
    expect_eq(rc, 0, "apctl audit")
    local n = 0
    for _ in out:gmatch("refused") do n = n + 1 end
    expect(n >= 2, "both refusals audited:\n" .. out)
  end,
}
