-- POL-008: multiparty IM invitations towards a provider are refused: REFER, an INVITE carrying a
-- resource list (an ad hoc conference), an INVITE with Referred-By.
local RLS = '<?xml version="1.0" encoding="UTF-8"?>\r\n<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">' ..
  '<list><entry uri="sip:bob@aol.test"/><entry uri="sip:carol@yahoo.test"/></list></resource-lists>\r\n'
local SDP = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=message 5060 sip null\r\n"
local MIXED = "--b1\r\nContent-Type: application/sdp\r\n\r\n" .. SDP .. "\r\n--b1\r\n" ..
  "Content-Type: application/resource-lists+xml\r\nContent-Disposition: recipient-list\r\n\r\n" .. RLS .. "\r\n--b1--\r\n"

return scenario {
  title  = "REFER, conference INVITEs with a recipient list and INVITEs with Referred-By are refused",
  covers = { "POL-008" },
  tags   = { "policy" },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob = lab.provider("aol"):user("bob@aol.test")
    local cases = {
      { "REFER", { method = "REFER", to = bob, headers = { "Refer-To: <sip:carol@yahoo.test>" } } },
      { "INVITE with a recipient list", { method = "INVITE", to = bob,
          content_type = "multipart/mixed;boundary=b1", body = MIXED } },
      { "INVITE with Referred-By", { method = "INVITE", to = bob, content_type = "application/sdp",
          body = SDP, headers = { "Referred-By: <sip:dave@contoso.test>" } } },
      { "MESSAGE with a recipient list", { method = "MESSAGE", to = bob,
          content_type = "multipart/mixed;boundary=b1", body = MIXED }, 403 },
      { "MESSAGE with a resource list", { method = "MESSAGE", to = bob,
          content_type = "application/resource-lists+xml", body = RLS }, 403 },
    }
    for _, c in ipairs(cases) do
      local r = alice:send_request(c[2])
      expect(r.status, c[1] .. ": a response (" .. tostring(r.error) .. ")")
      if c[3] then
        expect_eq(r.status, c[3], c[1] .. ": refused as multiparty")
      else
        expect(r.status == 403 or r.status == 405 or r.status == 488,
          c[1] .. ": refused with 403, 405 or 488, got " .. tostring(r.status))
      end
    end
    lab.capture:expect{ leg = "external", method = "MESSAGE", count = 0 }
    lab.capture:expect{ leg = "external", method = "REFER", count = 0 }
    lab.capture:expect{ leg = "external", method = "INVITE", count = 0 }
  end,
}
