-- POL-005 / POL-006: an inbound request must come from a domain the authenticated provider
-- serves, and go to a domain of ours.
local sip = require("sip")

return scenario {
  title  = "From a domain the provider does not serve: refused; to a domain not ours: refused",
  covers = { "POL-005", "POL-006" },
  tags   = { "policy" },
  run = function(lab)
    local aol = lab.provider("aol")
    lab.enterprise:user("alice@contoso.test")
    -- AOL's connection claims a Yahoo! user.
    local r = aol:send_raw(sip.request{ from = "mallory@yahoo.test", to = "alice@contoso.test",
      body = "spoofed" })
    expect(r.final, "a final response to a MESSAGE From a domain AOL does not serve")
    expect_eq(r.final.status, 403, "response to a spoofed From domain")
    -- AOL sends to a domain that is not ours.
    r = aol:send_raw(sip.request{ from = "bob@aol.test", to = "someone@fabrikam.test",
      body = "wrong door" })
    expect(r.final, "a final response to a MESSAGE for a foreign domain")
    expect(r.final.status == 404 or r.final.status == 403,
      "404 or 403 for a domain not ours, got " .. r.final.status)
    -- the Request-URI is ours, the To header is not: To is judged too
    r = aol:send_raw(sip.request{ from = "bob@aol.test", to = "someone@fabrikam.test",
      ruri = "sip:alice@contoso.test", call_id = "foreign-to@aol.test", body = "wrong To" })
    expect(r.final, "a final response to a MESSAGE whose To is a foreign domain")
    expect_eq(r.final.status, 404, "answer to a To domain not ours behind our Request-URI")
    expect(r.final.text:find("POL-006", 1, true), "the refusal names POL-006: " .. r.final.text)
    lab.capture:expect{ leg = "internal", method = "MESSAGE", count = 0 }
  end,
}
