-- TRUST-001..005: a trust header from outside is removed; exactly one, set by the proxy, goes
-- inward, marked per the provider's filter mode and its own verification claim.
local sip = require("sip")

local FORGED = "ms-edge-proxy-message-trust: ms-source-type=InternetDomain;ms-ep-fqdn=evil.example;" ..
               "ms-source-network=federation;ms-source-verified-user=verified;ms-remote-fqdn=evil.example"

-- provider, its mode, the request's verification claim (true: "ms-sender-verified: yes",
-- false: none, a string: that value), expected marking
local CASES = {
  { "aol",   "contacts-only", true,  "unverified" },
  { "aol",   "contacts-only", false, "unverified" },
  { "yahoo", "verified-only", true,  "verified" },
  { "yahoo", "verified-only", false, "unverified" },
  { "yahoo", "verified-only", "no", "unverified" },  -- a claim of "no" is not a verified claim
  { "msn",   "allow-all",     false, "verified" },
  { "msn",   "allow-all",     true,  "verified" },
}

return scenario {
  title  = "Trust marking per filter mode and provider claim; forged trust headers removed",
  covers = { "TRUST-001", "TRUST-002", "TRUST-003", "TRUST-004", "TRUST-005" },
  tags   = { "trust" },
  lab    = { providers = { aol = { filter = "contacts-only" }, yahoo = { filter = "verified-only" },
                           msn = { filter = "allow-all" } } },
  run = function(lab)
    lab.enterprise:user("alice@contoso.test")
    for i, c in ipairs(CASES) do
      local p, mode, claim, want = c[1], c[2], c[3], c[4]
      local site = lab.provider(p)
      local from = "user" .. i .. "@" .. p .. ".test"
      local headers = { FORGED, FORGED }
      if claim then headers[#headers + 1] = "ms-sender-verified: " .. (claim == true and "yes" or claim) end
      local call_id = "trust-case-" .. i .. "@" .. p
      local r = site:send_raw(sip.request{ from = from, to = "alice@contoso.test", call_id = call_id,
        headers = headers, body = "case " .. i })
      expect(r.final, "a final response to case " .. i)
      local inside = lab.capture:expect{ leg = "internal", method = "MESSAGE", call_id = call_id, count = 1 }[1]
      local trust = sip.headers(inside.text, "ms-edge-proxy-message-trust")
      expect_eq(#trust, 1, string.format("trust headers on the request passed inward (%s, %s, claim %s)",
        p, mode, tostring(claim)))
      local t = trust[1]
      expect(not t:find("evil.example", 1, true), "the forged trust header removed, got: " .. t)
      local key = "ms-source-verified-user=" .. want
      local at = t:find(key, 1, true)
      local after = at and t:sub(at + #key, at + #key)
      expect(at and (after == "" or after == ";" or after == " "),
        string.format("%s marking for %s in mode %s with claim %s, got: %s", want, p, mode, tostring(claim), t))
      expect(t:find("ms-ep-fqdn=ap.contoso.test", 1, true), "our external FQDN in the trust header: " .. t)
      expect(t:find("publiccloud", 1, true), "network publiccloud in the trust header: " .. t)
      expect(t:find("sip." .. p .. ".test", 1, true), "the provider's FQDN in the trust header: " .. t)
    end
  end,
}
