-- A page-mode MESSAGE crosses the whole lab both ways, and the wire proves it.
return scenario {
  title  = "alice@contoso.test and bob@aol.test exchange page-mode MESSAGEs through the proxy",
  covers = { "IM-001", "TLS-001", "TOPO-001", "TRUST-002" },
  tags   = { "smoke" },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob   = lab.provider("aol"):user("bob@aol.test")
    -- AOL makes no verification claim, so the proxy marks bob unverified (verified-only mode);
    -- alice's client takes unverified IM only from people on her allow list (TRUST-007).
    alice:allow(bob)

    local status, reason = alice:send_message(bob, "hello bob, from contoso")
    expect_eq(status, 200, "final response to alice's MESSAGE (" .. tostring(reason) .. ")")
    bob:expect_message{ from = alice, contains = "hello bob" }

    status, reason = bob:send_message(alice, "hello alice, from aol")
    expect_eq(status, 200, "final response to bob's MESSAGE (" .. tostring(reason) .. ")")
    alice:expect_message{ from = bob, contains = "hello alice" }

    -- The external leg carried TLS only: every flow is TLS, none carried cleartext SIP,
    -- and the lab's key log opened every one of them.
    local flows = lab.capture:flows{ leg = "external" }
    expect(#flows >= 1, "at least one TCP connection on the external leg")
    for _, f in ipairs(flows) do
      expect(f.tls, "TLS on external flow " .. f.client .. " -> " .. f.server)
      expect_eq(f.cleartext_sip, 0, "cleartext SIP messages on " .. f.client .. " -> " .. f.server)
      expect(f.decrypted, "decryption of external flow " .. f.client .. " -> " .. f.server ..
             (f.error and (" (" .. f.error .. ")") or ""))
    end

    -- Decrypted with the logged secrets: both MESSAGEs and both 200s crossed the external leg.
    local ext = lab.addr["ap.contoso.test"]
    lab.capture:expect{ leg = "external", method = "MESSAGE", tls = true,
                        from = "alice@contoso.test", to = "bob@aol.test", count = 1 }
    lab.capture:expect{ leg = "external", method = "MESSAGE", tls = true,
                        from = "bob@aol.test", to = "alice@contoso.test", count = 1 }
    lab.capture:expect{ leg = "external", method = "MESSAGE", status = 200, tls = true,
                        from = "alice@contoso.test", count = 1 }
    lab.capture:expect{ leg = "external", method = "MESSAGE", status = 200, tls = true,
                        from = "bob@aol.test", count = 1 }
    -- And the outbound MESSAGE left from the proxy's external address.
    local out = lab.capture:sip{ leg = "external", method = "MESSAGE", from = "alice@contoso.test" }
    expect(out[1].src:sub(1, #ext + 1) == ext .. ":", "outbound MESSAGE sent from " .. ext ..
           ", not " .. out[1].src)
  end,
}
