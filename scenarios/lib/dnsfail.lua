-- dnsfail: the DNS-004 scenario for one kind of DNS failure (shared by scenarios/dns/failure_*):
-- the provider's edge name fails in DNS; the sender gets a prompt 503 whose Warning names the
-- DNS failure, another provider keeps working meanwhile, and repeated requests cause no retry
-- storm (the failure is cached briefly).
return function(kind, within)
  return scenario {
    title  = "DNS " .. kind .. " for one provider: prompt 503 with Warning, others unaffected",
    covers = { "DNS-004" },
    tags   = { "dns" },
    lab    = { providers = { aol = { allow = true }, yahoo = { allow = true } } },
    run = function(lab)
      local dns   = lab:dns()
      local alice = lab.enterprise:user("alice@contoso.test")
      local bob   = lab.provider("aol"):user("bob@aol.test")
      local carol = lab.provider("yahoo"):user("carol@yahoo.test")
      dns:fault("sip.aol.test", kind)
      -- the failing destination and another one at the same time
      local st
      lab:parallel(
        function() st = alice:send_message(bob, "first") end,
        function()
          expect_eq(alice:send_message(carol, "meanwhile"), 200, "MESSAGE to Yahoo! while AOL's lookup fails")
          carol:expect_message{ from = alice, contains = "meanwhile" }
        end)
      expect_eq(st, 503, "answer to a MESSAGE whose next hop does not resolve")
      local r = lab.capture:expect{ leg = "internal", method = "MESSAGE", status = 503, count = 1 }[1]
      expect(r.text:find("Warning: 399 ", 1, true), "a Warning header in the 503")
      expect(r.text:find("DNS lookup of sip.aol.test failed", 1, true),
             "the Warning names the DNS failure, got: " .. r.text)
      local req = lab.capture:expect{ leg = "internal", method = "MESSAGE", to = "bob@aol.test", count = 1 }[1]
      expect(r.time - req.time < within, string.format("503 within %.1f s, took %.2f s", within,
             r.time - req.time))
      if kind == "timeout" then
        -- while AOL's lookup hung, Yahoo!'s MESSAGE was answered: nothing waited behind it
        local y = lab.capture:expect{ leg = "internal", method = "MESSAGE", status = 200, to = "carol@yahoo.test" }[1]
        expect(y.time < r.time, string.format("Yahoo!'s 200 (at +%.2f s) before AOL's 503 (at +%.2f s)",
          y.time - req.time, r.time - req.time))
      end
      -- and afterwards
      expect_eq(alice:send_message(carol, "still there?"), 200, "MESSAGE to Yahoo! afterwards")
      carol:expect_message{ from = alice, contains = "still there?" }
      -- more requests to the failing one: prompt answers from the negative cache, no new lookup
      for i = 1, 3 do
        expect_eq(alice:send_message(bob, "again " .. i), 503, "repeated MESSAGE " .. i)
      end
      dns:expect_query{ name = "sip.aol.test", type = "A", max = 2 }
      expect_eq(#dns:queries{ name = "sip.yahoo.test", type = "A" }, 1, "lookups of sip.yahoo.test")
    end,
  }
end
