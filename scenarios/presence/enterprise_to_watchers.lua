-- alice's presence change reaches every watching public contact as a PIDF NOTIFY.
return scenario {
  title  = "an enterprise presence change reaches watchers on all three providers",
  covers = { "PRES-001" },
  tags   = { "workers" },
  lab    = { providers = { aol = { allow = true }, yahoo = { allow = true },
                           msn = { allow = true } } },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local watchers = {
      lab.provider("aol"):user("bob@aol.test"),
      lab.provider("yahoo"):user("carol@yahoo.test"),
      lab.provider("msn"):user("dan@msn.test"),
    }
    for _, w in ipairs(watchers) do alice:allow(w); w:add_contact(alice) end
    for _, w in ipairs(watchers) do w:expect_presence(alice, "online") end
    alice:set_presence("busy")
    for _, w in ipairs(watchers) do w:expect_presence(alice, "busy") end
    local n = lab.capture:expect{ leg = "external", method = "NOTIFY", from = "alice@contoso.test" }
    expect(n[#n].text:find("application/pidf+xml", 1, true), "NOTIFY carries PIDF")
    lab:sleep(0.5) -- the last NOTIFYs finish their transactions before the capture is judged
  end,
}
