-- page: one scenario's page (pages/<area>.<name>.html): verdict and reason, the evidence (the
-- frame in the capture and the decoded message the failure is about, expected versus actual),
-- a ladder diagram of the SIP flow from the decrypted capture, every decoded message, and links
-- to the capture and logs.
local util = require("util")
local picsmod = require("pics")
local esc = util.esc
local M = {}

local ladder_model = require("ladder")

M.label = ladder_model.label

-- An SVG ladder: one lifeline per host that took part, one arrow per SIP message; each arrow
-- links to its decoded message; the evidence message's arrow is drawn thick.
function M.ladder(msgs, evidence)
  if #msgs == 0 then return "<p><em>no SIP messages in the capture</em></p>" end
  local cols, x = ladder_model.columns(msgs), {}
  local colw, top, step = 170, 40, 26
  for i, h in ipairs(cols) do x[h] = 90 + (i - 1) * colw end
  local width = 180 + (#cols - 1) * colw
  local height = top + #msgs * step + 20
  local out = { string.format('<svg class="ladder" id="ladder" width="%d" height="%d" viewBox="0 0 %d %d" ' ..
    'xmlns="http://www.w3.org/2000/svg" font-family="monospace" font-size="11">', width, height, width, height) }
  local a, b = x["ap-int.contoso.test"], x["ap.contoso.test"]
  if a and b then
    out[#out + 1] = string.format('<rect x="%d" y="22" width="%d" height="%d" fill="#f3f0e6" stroke="#d8d0b0"/>',
      math.min(a, b) - 6, math.abs(b - a) + 12, height - 30)
    out[#out + 1] = string.format('<text x="%d" y="%d" text-anchor="middle" fill="#8a7a40" font-style="italic">accessproxy</text>',
      (a + b) // 2, height - 12)
  end
  for _, h in ipairs(cols) do
    out[#out + 1] = string.format('<text x="%d" y="16" text-anchor="middle" font-weight="bold">%s</text>',
      x[h], esc(h ~= "" and h or "?"))
    out[#out + 1] = string.format('<line x1="%d" y1="24" x2="%d" y2="%d" stroke="#999"/>', x[h], x[h], height - 10)
  end
  for i, m in ipairs(msgs) do
    local y = top + (i - 1) * step
    local x1, x2 = x[ladder_model.host(m, "src")], x[ladder_model.host(m, "dst")]
    local color = m.leg == "external" and "#b35900" or (m.leg == "internal" and "#1f5fa8" or "#555")
    if not m.tls then color = "#c00" end
    local ev = evidence and evidence.index == i
    local dir = x2 >= x1 and 1 or -1
    out[#out + 1] = string.format('<a href="#msg-%d" class="arrow%s">', i, ev and " evidence" or "")
    out[#out + 1] = string.format('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="%s"/>',
      x1, y, x2 - dir * 2, y, ev and "#d00" or color, ev and "4" or "1.5")
    out[#out + 1] = string.format('<polygon points="%d,%d %d,%d %d,%d" fill="%s"/>',
      x2, y, x2 - dir * 8, y - 4, x2 - dir * 8, y + 4, color)
    out[#out + 1] = string.format('<text x="%d" y="%d" text-anchor="middle" fill="%s"><title>frame %d: %s</title>#%d %s%s</text></a>',
      (x1 + x2) // 2, y - 4, color, m.frame or 0, esc(m.text:sub(1, 600)), i, esc(M.label(m)),
      m.tls and "" or " [CLEARTEXT]")
  end
  out[#out + 1] = "</svg>"
  return table.concat(out, "\n")
end

-- The message a failure is about: the one at the failing frame when the harness knows it
-- exactly (a capture invariant, capture:expect with a count, expect/expect_eq given the decoded
-- message), else the last message captured before the failure was raised.
function M.evidence(s, msgs)
  local f = s.fail_frame or 0
  if f <= 0 or #msgs == 0 then return nil end
  local pick
  for i, m in ipairs(msgs) do
    if s.fail_frame_exact then
      if m.frame == f then pick = i end
    elseif (m.frame or 0) <= f then
      pick = i
    end
  end
  if not pick then return nil end
  return { index = pick, frame = msgs[pick].frame, exact = s.fail_frame_exact and true or false,
           label = M.label(msgs[pick]) .. " " .. (msgs[pick].src or "") .. " → " .. (msgs[pick].dst or "") }
end

-- The capture invariants' rules (scenarios/README.md), for the expected side of a violation.
M.RULES = {
  ["external-tls-only"] = "no cleartext SIP on the external edge",
  ["topology-hiding"] = "no internal host name (pool.contoso.test, ap-int.contoso.test) or internal address on the external edge",
  ["trust-header"] = "every request the proxy passes inward from outside carries exactly one ms-edge-proxy-message-trust header",
  ["well-formed"] = "every message parses and its Content-Length matches its body",
  ["transactions-end"] = "every request (but ACK) gets a final response on its connection",
}

-- "what: expected X, got Y" and "invariant N violated: why" as expected/actual rows.
function M.expected_actual(s)
  local what, exp, act = s.reason:match("^(.-): expected (.-), got (.*)$")
  if what then return what, exp, act end
  local inv, why = s.reason:match("^invariant (%S+) violated: (.*)$")
  if inv then return "capture invariant " .. inv, M.RULES[inv] or ("the rule " .. inv .. " holds"), why end
  exp = s.reason:match("^expected (.*)$")
  if exp then return "expectation", exp, "not so" end
  return "outcome", "the scenario's expectations hold", s.reason
end

local SCRIPT = [[
<script>
function openTarget(){var h=location.hash.slice(1);if(!h)return;var e=document.getElementById(h);
if(e&&e.tagName==="DETAILS"){e.open=true;e.scrollIntoView();}}
window.addEventListener("hashchange",openTarget);window.addEventListener("load",openTarget);
window.addEventListener("beforeprint",function(){document.querySelectorAll("details").forEach(function(d){d.open=true;});});
</script>]]

function M.render(run, s, pics)
  local v = util.shown(s)
  local h = { '<!DOCTYPE html><html><head><meta charset="utf-8"><title>' .. esc(s.name) .. " — " .. esc(v) ..
    '</title><link rel="stylesheet" href="../report.css">' .. SCRIPT .. "</head><body>",
    '<p class="nav"><a href="../index.html">← report index</a></p>',
    string.format('<h1 id="verdict"><span class="badge %s">%s</span> %s</h1>', util.css_class(v), esc(v), esc(s.name)),
    "<p>" .. esc(s.title) .. "</p>" }
  local reqs = {}
  for _, id in ipairs(util.split(s.covers)) do
    reqs[#reqs + 1] = string.format('<a href="../index.html#req-%s">%s</a> (%s)', esc(id), esc(id), esc(picsmod.status(pics, id)))
  end
  h[#h + 1] = string.format("<p>covers: %s · %.2f s · %d packets · %d assertions%s</p>",
    #reqs > 0 and table.concat(reqs, ", ") or "—", s.seconds, s.packets or 0, s.assertions or 0,
    (s.runs or 1) > 1 and string.format(" · %d/%d runs passed (%s)", s.runs_passed, s.runs, esc(s.history)) or "")
  if s.category then
    h[#h + 1] = string.format('<p>against the baseline: <span class="badge cat">%s</span>%s</p>', esc(s.category),
      s.xfail and (" — expected failure: " .. esc(s.xfail)) or "")
  end
  if s.verdict ~= "pass" then
    h[#h + 1] = string.format('<p class="reason"><b>%s</b>%s</p>', esc(s.where ~= "" and (s.where .. ": ") or ""), esc(s.reason))
  end
  if s.verdict == "n/a" then
    h[#h + 1] = "<p>Not run: the SUT's PICS does not claim what this scenario exercises.</p></body></html>"
    return table.concat(h, "\n")
  end
  local dir = "../" .. util.relpath(s.dir, run.out)
  if s.waived ~= "" then h[#h + 1] = "<p>Waived invariants:</p><pre>" .. esc(s.waived) .. "</pre>" end
  h[#h + 1] = string.format('<p class="files">Files: <a href="%s/capture.pcapng">capture.pcapng</a> (TLS secrets embedded) · ' ..
    '<a href="%s/capture.pcap">capture.pcap</a> · <a href="%s/keys.log">keys.log</a> · ' ..
    '<a href="%s/lab.log">lab.log</a> · <a href="%s/sut.log">sut.log</a></p>', dir, dir, dir, dir, dir)
  local msgs = piclab_decode and piclab_decode(s.dir .. "/capture.pcap", s.dir .. "/keys.log") or {}
  local ev = (s.verdict == "fail" or s.verdict == "inconc") and M.evidence(s, msgs) or nil
  s.evidence = ev
  if s.verdict == "fail" or s.verdict == "inconc" then
    local what, exp, act = M.expected_actual(s)
    h[#h + 1] = '<h2>Evidence</h2><table class="eva"><tr><th></th><th>expected</th><th>actual</th></tr>'
    h[#h + 1] = string.format("<tr><th>%s</th><td>%s</td><td>%s</td></tr>", esc(what), esc(exp), esc(act))
    if ev then
      h[#h + 1] = string.format('<tr><th>message</th><td>%s</td><td><a class="evidence" id="evidence-link" href="#msg-%d">' ..
        'frame %d, message #%d: %s</a>%s</td></tr>', ev.exact and "(the message the failure is about)" or "(the last message before the failure)",
        ev.index, ev.frame, ev.index, esc(ev.label), ev.exact and "" or " (the last one captured before the failure)")
    else
      h[#h + 1] = string.format("<tr><th>message</th><td colspan=\"2\">%s</td></tr>",
        s.fail_frame and s.fail_frame > 0 and ("no SIP message up to frame " .. s.fail_frame) or "no capture frame recorded")
    end
    h[#h + 1] = "</table>"
    if ev then h[#h + 1] = "<pre class=\"actual\">" .. esc(msgs[ev.index].text) .. "</pre>" end
  end
  h[#h + 1] = "<h2>Ladder</h2>" .. M.ladder(msgs, ev)
  if #msgs > 0 then
    h[#h + 1] = "<h2>" .. #msgs .. " decoded SIP messages</h2>"
    for i, m in ipairs(msgs) do
      h[#h + 1] = string.format('<details id="msg-%d" class="msg%s"%s><summary>#%d frame %d %s %s → %s (%s%s)</summary><pre>%s</pre></details>',
        i, ev and ev.index == i and " evidence" or "", ev and ev.index == i and " open" or "", i, m.frame or 0,
        esc(M.label(m)), esc(m.src), esc(m.dst), esc(m.leg), m.tls and ", TLS" or ", CLEARTEXT", esc(m.text))
    end
  end
  h[#h + 1] = "</body></html>"
  return table.concat(h, "\n")
end

return M
