-- TLS-004: the proxy's external certificate needs CN = its external FQDN and both serverAuth
-- and clientAuth. Given one without clientAuth, the config check warns, and the AOL-like
-- provider refuses the proxy's connections while the Yahoo!-like one does not check.
return scenario {
  title  = "An external certificate without clientAuth: -t warns, AOL refuses the proxy",
  covers = { "TLS-004" },
  tags   = { "tls" },
  waive  = {
    { "transactions-end", flow = "ap.contoso.test -> sip.aol.test",
      why = "the MESSAGE towards AOL dies with its refused connection" },
  },
  lab    = { sut_cert = "no-client-auth" },
  run = function(lab)
    local rc, out = lab:sut_check()
    expect_eq(rc, 0, "exit code of accessproxy -t (a warning is not an error): " .. out)
    expect(out:find("clientAuth", 1, true), "accessproxy -t warns about the missing clientAuth usage; said: " .. out)

    local alice = lab.enterprise:user("alice@contoso.test")
    local bob = lab.provider("aol"):user("bob@aol.test")
    local carol = lab.provider("yahoo"):user("carol@yahoo.test")

    local st, why = alice:send_message(bob, "to AOL with a server-only certificate")
    expect(st ~= 200, "AOL refuses a proxy certificate without clientAuth (MESSAGE got " .. tostring(st or why) .. ")")
    if st then
      expect(st == 503 or st == 403 or st == 408 or st == 480, "the proxy reports the failed connection, got " .. st)
    end
    expect_eq(bob:inbox_count(), 0, "messages bob received")
    -- over TLS 1.3 the proxy may send before AOL has judged its certificate; AOL never answers
    lab.capture:expect{ leg = "external", method = "MESSAGE", status = 200, count = 0 }

    expect_eq(alice:send_message(carol, "to Yahoo!"), 200, "MESSAGE to the Yahoo!-like provider, which does not check usages")
    carol:expect_message{ from = alice, contains = "Yahoo" }
  end,
}
