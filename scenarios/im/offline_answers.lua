-- IM-005: a MESSAGE to an offline public user gets that provider's documented answer
-- (fakes/im/profile.c: AOL 480, Yahoo! 202 stored and delivered later, MSN 408).
return scenario {
  title  = "offline answers per provider",
  covers = { "IM-005" },
  tags   = { "workers" },
  lab    = { providers = { aol = { allow = true }, yahoo = { allow = true },
                           msn = { allow = true } } },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    for p, want in pairs{ aol = 480, yahoo = 202, msn = 408 } do
      local u = lab.provider(p):user("off@" .. p .. ".test")
      u:set_presence("offline")
      local st, why = alice:send_message(u, "are you there?")
      expect_eq(st, want, p .. " answer to a MESSAGE for an offline user (" .. tostring(why) .. ")")
    end
    local carol = lab.provider("yahoo"):user("off@yahoo.test")
    carol:set_presence("online")
    carol:expect_message{ from = alice, contains = "are you there?" }
  end,
}
