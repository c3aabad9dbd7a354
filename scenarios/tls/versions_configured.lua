-- TLS-008: the minimum version and the cipher order are configurable: with tls_min_version 1.3
-- a TLS 1.2 client is refused; the TLS 1.3 suite list is the one configured; -t refuses a
-- cipher string the library cannot use.
local sip = require("sip")

return scenario {
  title  = "tls_min_version = 1.3 and a configured suite list hold on the edges",
  covers = { "TLS-008" },
  sut_kinds = { "accessproxy" },  -- reads or rewrites accessproxy.conf
  tags   = { "tls", "config" },
  lab    = { sut_tls = { min_version = "1.3", ciphersuites = "TLS_AES_256_GCM_SHA384" } },
  run = function(lab)
    local aol = lab.provider("aol")
    local r = aol:send_raw(sip.request{ method = "OPTIONS", from = "bob@aol.test",
      to = "alice@contoso.test" }, { tls_version = "1.2" })
    expect_eq(r.handshake, "failed", "TLS 1.2 handshake against tls_min_version = 1.3")
    log("TLS 1.2: " .. tostring(r.reason))

    for _, site in ipairs{ aol, lab.enterprise } do
      r = site:send_raw(sip.request{ method = "OPTIONS", from = site == aol and "bob@aol.test" or "alice@contoso.test",
        to = site == aol and "alice@contoso.test" or "bob@aol.test" })
      expect_eq(r.handshake, "ok", "TLS handshake from " .. site.fqdn)
      expect_eq(r.tls_version, "1.3", "negotiated version from " .. site.fqdn)
      expect_eq(r.cipher, "TLS_AES_256_GCM_SHA384", "negotiated suite from " .. site.fqdn)
      expect(r.final, "a final response to OPTIONS from " .. site.fqdn)
    end

    local f = assert(io.open(lab.dir .. "/accessproxy.conf", "r"))
    local conf = f:read("a")
    f:close()
    local rc, out = lab:sut_check(conf:gsub("ciphersuites = [^\n]*", "ciphersuites = TLS_NO_SUCH_SUITE", 1))
    expect(rc ~= 0, "accessproxy -t refuses an unknown TLS 1.3 suite (exit " .. rc .. ")")
    expect(out:find("ciphersuites", 1, true), "the refusal names ciphersuites; said: " .. out)
    rc, out = lab:sut_check(conf:gsub("tls_min_version = 1.3", "tls_min_version = 1.1", 1))
    expect(rc ~= 0, "accessproxy -t refuses tls_min_version 1.1 (exit " .. rc .. ")")
  end,
}
