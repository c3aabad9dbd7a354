-- IM-002: INVITE text sessions both ways: INVITE, 200, ACK, MESSAGEs in the dialog, BYE.
return scenario {
  title  = "INVITE-based text IM sessions with aol, both ways",
  covers = { "IM-002" },
  tags   = { "workers" },
  lab    = { providers = { aol = { allow = true }, yahoo = { allow = true },
                           msn = { allow = true } } },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob   = lab.provider("aol"):user("bob@aol.test")
    alice:allow(bob)
    local s = alice:start_session(bob)
    local b = bob:expect_session(alice)
    b:accept()
    s:expect_established()
    expect_eq(s:send("hello from the session"), 200, "MESSAGE in the dialog")
    b:expect_message{ contains = "hello from the session" }
    expect_eq(b:send("and back"), 200, "MESSAGE in the dialog, other way")
    s:expect_message{ contains = "and back" }
    expect_eq(s:bye(), 200, "BYE")
    b:expect_end()

    local t = bob:start_session(alice)
    local a = alice:expect_session(bob)
    a:accept()
    t:expect_established()
    expect_eq(t:send("bob speaking"), 200, "MESSAGE in bob's session")
    a:expect_message{ contains = "bob speaking" }
    expect_eq(a:bye(), 200, "alice's BYE")
    t:expect_end()
    lab.capture:expect{ leg = "external", method = "INVITE" }
    lab.capture:expect{ leg = "external", method = "BYE" }
  end,
}
