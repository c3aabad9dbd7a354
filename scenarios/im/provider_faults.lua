-- A provider that answers 503, or drops its connection, yields a prompt failure to the sender.
return scenario {
  title  = "provider faults: 503 and a dropped connection",
  covers = { "ROB-005" },
  tags   = { "workers" },
  waive  = {
    { "transactions-end", flow = "ap.contoso.test -> sip.aol.test",
      why = "AOL drops the connection under MESSAGE 'two' on purpose" },
  },
  lab    = { providers = { aol = { allow = true }, yahoo = { allow = true },
                           msn = { allow = true } } },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local aol   = lab.provider("aol")
    local bob   = aol:user("bob@aol.test")
    aol:fault{ respond = 503, method = "MESSAGE" }
    local st = alice:send_message(bob, "one")
    expect_eq(st, 503, "response while AOL answers 503")
    aol:clear_faults()
    aol:fault{ drop_next_connection = true, method = "MESSAGE" }
    st = alice:send_message(bob, "two")
    expect(st ~= 200, "no 200 for a MESSAGE whose connection was dropped, got " .. tostring(st))
    expect_eq(alice:send_message(bob, "three"), 200, "response after the proxy reconnected")
    bob:expect_message{ contains = "three" }
  end,
}
