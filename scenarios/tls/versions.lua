-- TLS-008: TLS 1.2 and 1.3 both work on both edges.
local sip = require("sip")

local function probe(site, from, to, v)
  local r = site:send_raw(sip.request{ method = "OPTIONS", from = from, to = to }, { tls_version = v })
  expect_eq(r.handshake, "ok", "TLS " .. v .. " handshake from " .. site.fqdn)
  expect_eq(r.tls_version, v, "negotiated version from " .. site.fqdn)
  expect(r.final, "a final response to OPTIONS over TLS " .. v .. " from " .. site.fqdn)
  log(site.fqdn .. " TLS " .. v .. ": " .. r.cipher .. " -> " .. (r.final and r.final.status or "-"))
end

return scenario {
  title  = "TLS 1.2 and TLS 1.3 both work on the external and internal edges",
  covers = { "TLS-008" },
  tags   = { "tls" },
  run = function(lab)
    for _, v in ipairs{ "1.2", "1.3" } do
      probe(lab.provider("aol"), "bob@aol.test", "alice@contoso.test", v)
      probe(lab.enterprise, "alice@contoso.test", "bob@aol.test", v)
    end
    local seen = {}
    for _, leg in ipairs{ "external", "internal" } do
      for _, fl in ipairs(lab.capture:flows{ leg = leg }) do
        if fl.tls_version then seen[leg .. fl.tls_version] = true end
      end
      expect(seen[leg .. 0x0303], "a TLS 1.2 (0x0303) flow on the " .. leg .. " leg")
      expect(seen[leg .. 0x0304], "a TLS 1.3 (0x0304) flow on the " .. leg .. " leg")
    end
  end,
}
