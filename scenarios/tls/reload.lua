-- TLS-007: certificates are replaced and reloaded without dropping connections or failing
-- transactions. MESSAGEs both ways are in flight (their answers held back by the far side)
-- while the proxy reloads a new external certificate; every one of them ends 200, no connection
-- is dropped or redialled, and a new connection is shown the new certificate (its serial).
-- A reload the proxy refuses (a key file that does not exist) is an error answer, leaves the
-- old certificate in use, and is told apart from an accepted one.
local files = require("files")
local read = files.read
local write = files.write
local sip = require("sip")

-- the config with the [external] section's cert and key replaced
local function with_external(conf, cert, key)
  local section = conf:match("%[external%].-\n\n") or conf:match("%[external%].*")
  expect(section, "an [external] section in the generated config")
  local new = section:gsub("\ncert = [^\n]*", "\ncert = " .. cert):gsub("\nkey = [^\n]*", "\nkey = " .. key)
  local start, stop = conf:find(section, 1, true)
  return conf:sub(1, start - 1) .. new .. conf:sub(stop + 1)
end

-- the certificate a fresh connection from AOL is shown by the external edge
local function shown(lab)
  local r = lab.provider("aol"):send_raw(sip.request{ method = "OPTIONS", from = "bob@aol.test",
    to = "alice@contoso.test", call_id = "probe-" .. math.random(1, 1e9) .. "@aol.test" }, { timeout = 2 })
  expect_eq(r.handshake, "ok", "TLS handshake of a new connection to the external edge (" .. tostring(r.reason) .. ")")
  expect(r.peer_cert, "the external edge showed a certificate")
  return r.peer_cert or {}
end

return scenario {
  title  = "Certificate reload with MESSAGEs in flight both ways: all answered 200, no connection dropped, new connections see the new certificate; a refused reload is an error",
  covers = { "TLS-007" },
  sut_kinds = { "accessproxy" },  -- reads or rewrites accessproxy.conf
  tags   = { "tls", "reload", "workers" },
  timeout = 60,
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local carol = lab.enterprise:user("carol@contoso.test")
    local bob = lab.provider("aol"):user("bob@aol.test")
    alice:allow(bob) -- unverified AOL IM reaches alice only from her allow list (TRUST-007)
    carol:allow(bob)

    expect_eq(alice:send_message(bob, "before 1"), 200, "MESSAGE alice -> bob before the reload")
    expect_eq(bob:send_message(alice, "before 2"), 200, "MESSAGE bob -> alice before the reload")
    bob:expect_message{ from = alice, contains = "before 1" }
    alice:expect_message{ from = bob, contains = "before 2" }

    local path = lab.dir .. "/accessproxy.conf"
    local conf = read(path)
    local old_path = conf:match("%[external%].-\ncert = ([^\n]*)")
    local old = lab:cert_info(old_path)
    expect_eq(shown(lab).serial, old.serial, "serial shown before any reload (the configured certificate)")

    -- a refused reload: the key file does not exist; the old certificate stays in use
    -- (the proxy's own control socket: apctl would refuse this config before asking it)
    write(path, with_external(conf, old_path, lab.dir .. "/no-such.key"))
    local answer = lab.sut:ctl("reload")
    log("refused reload: " .. tostring(answer))
    expect(answer and answer:match("^error") and answer:find("refused", 1, true),
      "a reload naming a missing key is refused with an error, got " .. tostring(answer))
    expect_eq(shown(lab).serial, old.serial, "serial shown after the refused reload")
    expect_eq(alice:send_message(bob, "after refused"), 200, "MESSAGE after the refused reload")
    bob:expect_message{ contains = "after refused" }

    -- a new certificate and key for ap.contoso.test (same public root, a fresh key pair)
    local cert, key = lab:bad_cert("public-signed", "ap.contoso.test")
    local new = lab:cert_info(cert)
    expect(new.serial ~= old.serial, "the replacement certificate has its own serial")
    write(path, with_external(conf, cert, key))

    local before = #lab.capture:flows{ leg = "external" }
    local before_int = #lab.capture:flows{ leg = "internal" }
    -- answers held back on both far sides, so the transactions are open during the reload
    lab.provider("aol"):fault{ method = "MESSAGE", delay_ms = 1500 }
    lab.enterprise:fault{ method = "MESSAGE", delay_ms = 1500 }
    local reloaded = false
    local sends = {
      { alice, bob, "out 1" }, { carol, bob, "out 2" }, { alice, bob, "out 3" },
      { bob, alice, "in 1" }, { bob, carol, "in 2" },
    }
    local branches = {}
    for _, s in ipairs(sends) do
      branches[#branches + 1] = function()
        local st, why = s[1]:send_message(s[2], "across the reload " .. s[3])
        expect_eq(st, 200, "MESSAGE " .. s[1].aor .. " -> " .. s[2].aor .. " (" .. s[3] .. ") in flight across the reload (" .. tostring(why) .. ")")
        expect(reloaded, "MESSAGE " .. s[3] .. " still in flight when the reload was answered")
      end
    end
    branches[#branches + 1] = function()
      lab:sleep(0.4) -- every MESSAGE has reached its far side, whose answer waits 1.5 s
      -- apctl in the background: the lab keeps answering while the proxy reloads, and apctl
      -- reaches every worker of a multi-process proxy
      local rrc, ranswer = lab:apctl_start("reload"):wait()
      log("reload: " .. ranswer)
      expect(rrc == 0 and ranswer:match("^ok"), "the reload is accepted (exit 0, an answer starting 'ok'), got exit " .. rrc .. ": " .. ranswer)
      reloaded = true
    end
    lab:parallel(table.unpack(branches))
    lab.provider("aol"):clear_faults()
    lab.enterprise:clear_faults()
    for _, s in ipairs(sends) do
      s[2]:expect_message{ from = s[1], contains = "across the reload " .. s[3] }
    end

    expect_eq(alice:send_message(bob, "after 1"), 200, "MESSAGE alice -> bob after the reload")
    expect_eq(bob:send_message(alice, "after 2"), 200, "MESSAGE bob -> alice after the reload")
    bob:expect_message{ from = alice, contains = "after 1" }
    alice:expect_message{ from = bob, contains = "after 2" }
    expect_eq(#lab.capture:flows{ leg = "external" }, before, "external connections (none dropped and redialled)")
    expect_eq(#lab.capture:flows{ leg = "internal" }, before_int, "internal connections (none dropped and redialled)")

    -- a new connection is shown the new certificate
    local seen = shown(lab)
    expect_eq(seen.serial, new.serial, "serial shown to a new connection after the reload (the new certificate)")
    local rc, out = lab:sut_check()
    expect_eq(rc, 0, "accessproxy -t on the replaced certificate: " .. out)
  end,
}
