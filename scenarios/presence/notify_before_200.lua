-- PRES-005: the Yahoo!-like provider sends its first NOTIFY before the SUBSCRIBE's 200.
return scenario {
  title  = "a NOTIFY arriving before the 200 is handled",
  covers = { "PRES-005" },
  tags   = { "workers" },
  lab    = { providers = { aol = { allow = true }, yahoo = { allow = true },
                           msn = { allow = true } } },
  run = function(lab)
    local yahoo = lab.provider("yahoo")
    yahoo:notify_before_200(true)
    local alice = lab.enterprise:user("alice@contoso.test")
    local carol = yahoo:user("carol@yahoo.test")
    carol:allow(alice)
    carol:set_presence("busy")
    alice:add_contact(carol)
    alice:expect_presence(carol, "busy", { subscription = "active" })
    lab:sleep(0.5) -- the last NOTIFYs finish their transactions before the capture is judged
  end,
}
