-- An enterprise user adds an AOL contact, bob authorizes, presence flows, removal ends it.
return scenario {
  title  = "alice adds, watches and removes bob@aol.test",
  covers = { "CONT-001", "CONT-002", "PRES-002" },
  lab    = { providers = { aol = { allow = true }, yahoo = { allow = true },
                           msn = { allow = true } } },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob   = lab.provider("aol"):user("bob@aol.test")
    alice:add_contact(bob)
    bob:expect_authorization_request(alice):grant()
    alice:expect_presence(bob, "online", { subscription = "active" })
    bob:set_presence("busy")
    alice:expect_presence(bob, "busy")
    alice:remove_contact(bob)
    lab:sleep(0.5)
    lab.capture:expect{ leg = "external", method = "SUBSCRIBE", from = "alice@contoso.test",
                        to = "bob@aol.test" }
    lab.capture:expect{ leg = "external", method = "NOTIFY", from = "bob@aol.test" }
    local subs = lab.capture:sip{ leg = "external", method = "SUBSCRIBE", from = "alice@contoso.test" }
    expect(subs[#subs].text:find("Expires: 0", 1, true), "last SUBSCRIBE carries Expires: 0")
    local n = lab.capture:sip{ leg = "external", method = "NOTIFY", from = "bob@aol.test" }
    expect(n[#n].text:find("terminated", 1, true), "last NOTIFY says terminated")
  end,
}
