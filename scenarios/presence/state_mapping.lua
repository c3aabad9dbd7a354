-- PRES-003: "in a meeting" shows online everywhere; "away" shows as each provider's away.
return scenario {
  title  = "presence states map per provider",
  covers = { "PRES-003" },
  tags   = { "workers" },
  lab    = { providers = { aol = { allow = true }, yahoo = { allow = true },
                           msn = { allow = true } } },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob   = lab.provider("aol"):user("bob@aol.test")
    local carol = lab.provider("yahoo"):user("carol@yahoo.test")
    local dan   = lab.provider("msn"):user("dan@msn.test")
    for _, w in ipairs{ bob, carol, dan } do alice:allow(w); w:add_contact(alice) end
    alice:set_presence("in-a-meeting")
    for _, w in ipairs{ bob, carol, dan } do w:expect_presence(alice, "online") end
    alice:set_presence("away")
    bob:expect_presence(alice, "Away")
    carol:expect_presence(alice, "Stepped Out")
    dan:expect_presence(alice, "Away")
    lab:sleep(0.5) -- the last NOTIFYs finish their transactions before the capture is judged
  end,
}
