-- TLS-007: certificates are replaced and reloaded without dropping connections or failing
-- transactions: the external leg keeps its connections and messages keep flowing both ways.
return scenario {
  title  = "Certificate reload keeps connections and transactions",
  covers = { "TLS-007" },
  sut_kinds = { "accessproxy" },  -- reads or rewrites accessproxy.conf
  tags   = { "tls", "reload" },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob = lab.provider("aol"):user("bob@aol.test")
    alice:allow(bob) -- unverified AOL IM reaches alice only from her allow list (TRUST-007)

    expect_eq(alice:send_message(bob, "before 1"), 200, "MESSAGE alice -> bob before the reload")
    expect_eq(bob:send_message(alice, "before 2"), 200, "MESSAGE bob -> alice before the reload")
    bob:expect_message{ from = alice, contains = "before 1" }
    alice:expect_message{ from = bob, contains = "before 2" }
    local before = #lab.capture:flows{ leg = "external" }
    local before_int = #lab.capture:flows{ leg = "internal" }

    -- a new certificate and key for ap.contoso.test (same public root, a fresh key pair)
    local cert, key = lab:bad_cert("public-signed", "ap.contoso.test")
    local f = assert(io.open(lab.dir .. "/accessproxy.conf", "r"))
    local conf = f:read("a")
    f:close()
    local section = conf:match("%[external%].-\n\n")
    expect(section, "an [external] section in the generated config")
    local new = section:gsub("\ncert = [^\n]*", "\ncert = " .. cert):gsub("\nkey = [^\n]*", "\nkey = " .. key)
    local start, stop = conf:find(section, 1, true)
    conf = conf:sub(1, start - 1) .. new .. conf:sub(stop + 1)
    f = assert(io.open(lab.dir .. "/accessproxy.conf", "w"))
    f:write(conf)
    f:close()

    -- a transaction in flight across the reload
    lab.provider("aol"):fault{ method = "MESSAGE", delay_ms = 400 }
    local answer = lab.sut:ctl("reload")
    log("reload: " .. tostring(answer))
    expect(answer and not answer:lower():find("fail", 1, true), "the reload is accepted, got " .. tostring(answer))
    expect_eq(alice:send_message(bob, "after 1"), 200, "MESSAGE alice -> bob across the reload")
    lab.provider("aol"):clear_faults()
    expect_eq(bob:send_message(alice, "after 2"), 200, "MESSAGE bob -> alice after the reload")
    bob:expect_message{ from = alice, contains = "after 1" }
    alice:expect_message{ from = bob, contains = "after 2" }

    expect_eq(#lab.capture:flows{ leg = "external" }, before, "external connections (none dropped and redialled)")
    expect_eq(#lab.capture:flows{ leg = "internal" }, before_int, "internal connections (none dropped and redialled)")
    local rc, out = lab:sut_check()
    expect_eq(rc, 0, "accessproxy -t on the replaced certificate: " .. out)
  end,
}
