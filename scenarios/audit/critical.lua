-- AUD-003 (the forwarding half): with critical archiving a federated MESSAGE is forwarded only
-- once its audit record is durable, so it is on record the moment it is delivered. The refusal
-- half (503 when recording fails) is audit/critical_disk_full.lua.
return scenario {
  title  = "Critical archiving: every forwarded MESSAGE is on record the moment it is delivered",
  covers = { "AUD-003", "AUD-001" },
  tags   = { "audit", "workers" },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob = lab.provider("aol"):user("bob@aol.test")
    local rc, out = lab:apctl("settings", "set", "archive_critical", "yes")
    expect_eq(rc, 0, "apctl settings set archive_critical yes (" .. out .. ")")
    for i = 1, 3 do
      expect_eq(alice:send_message(bob, "durable " .. i), 200, "MESSAGE " .. i .. " with critical archiving")
      bob:expect_message{ contains = "durable " .. i }
      -- no waiting: what was forwarded is on record already
      rc, out = lab:apctl("audit", "--user", "alice@contoso.test", "--limit", "0")
      local n = 0
      for _ in out:gmatch("forwarded") do n = n + 1 end
      expect(n >= i, "MESSAGE " .. i .. " on record as soon as it was delivered:\n" .. out)
    end

  end,
}
