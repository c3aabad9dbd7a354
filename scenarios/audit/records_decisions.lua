-- AUD-001: every federated request is recorded with time, direction, provider, from, to,
-- method, Call-ID, decision and reason; one forwarded and one refused here.
return scenario {
  title  = "A forwarded and a refused federated MESSAGE are both in the audit log with every field",
  covers = { "AUD-001", "POL-001" },
  tags   = { "audit", "workers" },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local eve = lab.enterprise:user("eve@contoso.test")   -- not enabled for PIC in the lab
    local bob = lab.provider("aol"):user("bob@aol.test")
    expect_eq(alice:send_message(bob, "audited"), 200, "alice's MESSAGE to bob")
    bob:expect_message{ from = alice }
    expect_eq(eve:send_message(bob, "refused"), 403, "eve's MESSAGE to bob")
    lab:sleep(0.2) -- the audit writer commits in small batches
    local rc, out = lab:apctl("--json", "audit", "--limit", "0")
    expect_eq(rc, 0, "apctl --json audit (" .. out .. ")")
    local fwd, ref
    for obj in out:gmatch("{[^{}]*}") do
      if obj:find('"from":"alice@contoso.test"', 1, true) then fwd = obj end
      if obj:find('"from":"eve@contoso.test"', 1, true) then ref = obj end
    end
    expect(fwd, "a record of alice's MESSAGE in:\n" .. out)
    expect(ref, "a record of eve's MESSAGE in:\n" .. out)
    for _, f in ipairs({ '"time":"%d%d%d%d%-%d%d%-%d%dT', '"direction":"out"', '"provider":"aol"',
                         '"to":"bob@aol.test"', '"method":"MESSAGE"', '"call_id":"[^"]+"' }) do
      expect(fwd:find(f), "forwarded record has " .. f .. ": " .. fwd)
      expect(ref:find(f), "refused record has " .. f .. ": " .. ref)
    end
    expect(fwd:find('"decision":"forwarded"', 1, true), "decision forwarded: " .. fwd)
    expect(ref:find('"decision":"refused"', 1, true), "decision refused: " .. ref)
    expect(ref:find('"status":403', 1, true), "status 403 recorded: " .. ref)
    local reason = ref:match('"reason":"([^"]*)"') or ""
    expect(reason:find("eve@contoso.test", 1, true) or reason:lower():find("not enabled"),
      "the refusal's reason names why, got '" .. reason .. "'")
    -- the plain table lists both too
    rc, out = lab:apctl("audit", "--user", "eve@contoso.test")
    expect_eq(rc, 0, "apctl audit --user eve")
    expect(out:find("refused", 1, true), "eve's refusal in the table:\n" .. out)
  end,
}
