-- wire: checks on what crossed both legs of the proxy, shared by scenarios that must show the
-- proxy relayed something itself (and did not leave the outcome to a fake).
local sip = require("sip")

local M = {}

-- The body of a captured message's text ("" when none).
function M.body(text)
  return text:match("\r\n\r\n(.*)$") or ""
end

-- Every flow of the leg that carried anything is decrypted: a "nothing crossed" or "the same
-- crossed" check counts only then. At least one flow must exist. A connection that never got
-- as far as TLS nor carried SIP (refused while a peer was down) has nothing to decrypt.
function M.decrypted(lab, leg)
  local flows = lab.capture:flows{ leg = leg }
  expect(#flows > 0, "a flow on the " .. leg .. " leg")
  for _, f in ipairs(flows) do
    if f.tls or f.sip_msgs > 0 or f.cleartext_sip > 0 then
      expect(f.decrypted, string.format("%s leg flow %s -> %s decrypted (%s)", leg, f.client,
        f.server, tostring(f.error)))
    end
  end
end

-- The requests of `method` from `from` to `to` on one leg, oldest first.
function M.requests(lab, leg, method, from, to)
  return lab.capture:sip{ leg = leg, method = method, from = from, to = to }
end

-- The trust header (ms-edge-proxy-message-trust) values of a message's text.
function M.trust(text)
  return sip.headers(text, "ms-edge-proxy-message-trust")
end

-- The message (captured on the internal leg, passed inward by the proxy) carries exactly one
-- trust header, the proxy's: its FQDN, publiccloud, verified or not as `verified` says, and the
-- provider's edge `remote`. A request on the external leg going out carries none.
function M.expect_trust(m, verified, remote, what)
  local v = M.trust(m.text)
  expect_eq(#v, 1, what .. ": trust headers")
  local want = string.format("ms-source-type=InternetDomain;ms-ep-fqdn=ap.contoso.test;"
    .. "ms-source-network=publiccloud;ms-source-verified-user=%s;ms-remote-fqdn=%s",
    verified and "verified" or "unverified", remote)
  expect_eq(v[1], want, what .. ": trust header")
end

function M.expect_no_trust(m, what)
  expect_eq(#M.trust(m.text), 0, what .. ": trust headers leaving through the external edge")
end

-- No internal name or address in a message that left through the external edge (TOPO-001).
function M.expect_no_inside_names(lab, m, what)
  for _, n in ipairs{ "pool.contoso.test", "ap-int.contoso.test", lab.addr["pool.contoso.test"],
                      lab.addr["ap-int.contoso.test"] } do
    expect(not m.text:lower():find(n:lower(), 1, true), string.format("%s names %s on the external leg", what, n))
  end
end

-- The requests of `method` from `from` to `to` crossed the proxy one for one, in the same order,
-- with byte-identical bodies: what left the sender's leg (`src`) is what arrived on the other
-- (`dst`). `min` is the number of such requests the caller insists on. Returns both lists.
-- Either leg's messages may take up to 5 s to show in the capture.
function M.relayed_unchanged(lab, t)
  -- what is still on its way gets a few seconds to show in the capture (within)
  local a = lab.capture:expect{ leg = t.src, method = t.method, from = t.from, to = t.to,
                                min = t.min or 1, within = 5 }
  local b = lab.capture:expect{ leg = t.dst, method = t.method, from = t.from, to = t.to,
                                count = #a, within = 5 }
  local what = string.format("%s %s -> %s", t.method, t.from, t.to)
  for i = 1, #a do
    local ba, bb = M.body(a[i].text), M.body(b[i].text)
    if ba ~= bb then
      fail(string.format("%s #%d changed crossing the proxy (%s -> %s):\n  %s leg: %s\n  %s leg: %s",
        what, i, t.src, t.dst, t.src, ba, t.dst, bb))
    end
    expect_eq(sip.header(b[i].text, "Content-Type"), sip.header(a[i].text, "Content-Type"),
      string.format("%s #%d Content-Type on the %s leg", what, i, t.dst))
    expect_eq(sip.header(b[i].text, "Subscription-State"), sip.header(a[i].text, "Subscription-State"),
      string.format("%s #%d Subscription-State on the %s leg", what, i, t.dst))
  end
  return a, b
end

return M
