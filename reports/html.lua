-- html: the self-contained compliance report (index.html) of one run: requirement coverage
-- matrix, then per scenario its verdict and reason, a ladder diagram of the SIP flow drawn from
-- the decrypted capture, the decoded messages, and links to the capture and logs.
local catalog = require("catalog")
local ladder_model = require("ladder")
local M = {}

local function esc(s)
  return (tostring(s or ""):gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;")
    :gsub('"', "&quot;"))
end

local function split(s)
  local t = {}
  for w in (s or ""):gmatch("%S+") do t[#t + 1] = w end
  return t
end

local label = ladder_model.label

-- An SVG ladder: one lifeline per host that took part, one arrow per SIP message.
local function ladder(msgs)
  if #msgs == 0 then return "<p><em>no SIP messages in the capture</em></p>" end
  local cols, x = ladder_model.columns(msgs), {}
  local colw, top, step = 170, 40, 26
  for i, h in ipairs(cols) do x[h] = 90 + (i - 1) * colw end
  local width = 180 + (#cols - 1) * colw
  local height = top + #msgs * step + 20
  local out = { string.format('<svg class="ladder" width="%d" height="%d" ' ..
    'xmlns="http://www.w3.org/2000/svg" font-family="monospace" font-size="11">', width, height) }
  -- the proxy's two edges are one process: one shaded box spans them
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
    local dir = x2 >= x1 and 1 or -1
    out[#out + 1] = string.format('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="1.5"/>',
      x1, y, x2 - dir * 2, y, color)
    out[#out + 1] = string.format('<polygon points="%d,%d %d,%d %d,%d" fill="%s"/>',
      x2, y, x2 - dir * 8, y - 4, x2 - dir * 8, y + 4, color)
    out[#out + 1] = string.format('<text x="%d" y="%d" text-anchor="middle" fill="%s"><title>%s</title>%s%s</text>',
      (x1 + x2) // 2, y - 4, color, esc(m.text:sub(1, 600)), esc(label(m)), m.tls and "" or " [CLEARTEXT]")
  end
  out[#out + 1] = "</svg>"
  return table.concat(out, "\n")
end

local CSS = [[
body{font-family:sans-serif;margin:2em;color:#222} h1{margin-bottom:0}
table{border-collapse:collapse;margin:1em 0} td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
.pass{background:#d8f5d8}.fail{background:#f8d0d0}.error{background:#f5e0b0}.skip{background:#e0e0e0}
.untested{background:#f4f4f4;color:#777}.passing{background:#d8f5d8}.failing{background:#f8d0d0}.skipped{background:#e0e0e0}
.badge{display:inline-block;padding:0 6px;margin:1px;border-radius:3px;font-size:90%}
section.scen{border-top:2px solid #ddd;margin-top:2em} pre{background:#f6f6f6;padding:6px;overflow-x:auto;font-size:85%}
.ladder{border:1px solid #eee;background:#fff}
]]

function M.render(run, root)
  local list = catalog.load(root)
  local by_req, status = {}, {}
  local counts = { pass = 0, fail = 0, error = 0, skip = 0 }
  for _, s in ipairs(run.scenarios) do
    counts[s.verdict] = (counts[s.verdict] or 0) + 1
    for _, id in ipairs(split(s.covers)) do
      by_req[id] = by_req[id] or {}
      table.insert(by_req[id], s)
      local v = s.verdict
      if v == "fail" or v == "error" then status[id] = "failing"
      elseif v == "pass" and status[id] ~= "failing" then status[id] = "passing"
      elseif v == "skip" and not status[id] then status[id] = "skipped" end
    end
  end
  local h = { "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>PIClab compliance report</title>",
              "<style>" .. CSS .. "</style></head><body>",
              "<h1>PIClab compliance report</h1>",
              string.format("<p>Run <code>%s</code>: %d scenarios in %.1f s, seed %s — " ..
                "<span class=\"badge pass\">%d pass</span> <span class=\"badge fail\">%d fail</span> " ..
                "<span class=\"badge error\">%d error</span> <span class=\"badge skip\">%d skip</span></p>",
                esc(run.out), #run.scenarios, run.seconds, esc(run.seed), counts.pass, counts.fail,
                counts.error, counts.skip),
              "<h2>Requirement coverage</h2><table><tr><th>id</th><th>status</th><th>requirement</th><th>source</th><th>scenarios</th></tr>" }
  for _, r in ipairs(list) do
    local st = status[r.id] or "untested"
    local sc = {}
    for _, s in ipairs(by_req[r.id] or {}) do
      sc[#sc + 1] = string.format('<a class="badge %s" href="#%s">%s</a>', s.verdict, esc(s.name), esc(s.name))
    end
    h[#h + 1] = string.format('<tr class="%s"><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>',
      st, esc(r.id), st, esc(r.text), esc(r.source), table.concat(sc, " "))
  end
  h[#h + 1] = "</table><h2>Scenarios</h2>"
  for _, s in ipairs(run.scenarios) do
    local dir = s.dir:sub(#run.out + 2)
    h[#h + 1] = string.format('<section class="scen" id="%s"><h3><span class="badge %s">%s</span> %s</h3>',
      esc(s.name), s.verdict, s.verdict, esc(s.name))
    h[#h + 1] = string.format("<p>%s<br>covers: %s · %.2f s · %d packets</p>", esc(s.title),
      esc(s.covers ~= "" and s.covers or "—"), s.seconds, s.packets)
    if s.verdict ~= "pass" then
      h[#h + 1] = string.format("<p><b>%s</b>%s</p>", esc(s.where ~= "" and (s.where .. ": ") or ""), esc(s.reason))
    end
    if s.waived ~= "" then h[#h + 1] = "<p>Waived invariants: <pre>" .. esc(s.waived) .. "</pre></p>" end
    h[#h + 1] = string.format('<p>Files: <a href="%s/capture.pcapng">capture.pcapng</a> (TLS secrets embedded) · ' ..
      '<a href="%s/capture.pcap">capture.pcap</a> · <a href="%s/keys.log">keys.log</a> · ' ..
      '<a href="%s/lab.log">lab.log</a> · <a href="%s/sut.log">sut.log</a></p>', dir, dir, dir, dir, dir)
    local msgs = piclab_decode and piclab_decode(s.dir .. "/capture.pcap", s.dir .. "/keys.log") or {}
    h[#h + 1] = ladder(msgs)
    if #msgs > 0 then
      h[#h + 1] = "<details><summary>" .. #msgs .. " decoded SIP messages</summary>"
      for i, m in ipairs(msgs) do
        h[#h + 1] = string.format("<p>#%d %s %s → %s (%s%s)</p><pre>%s</pre>", i, esc(label(m)),
          esc(m.src), esc(m.dst), esc(m.leg), m.tls and ", TLS" or ", CLEARTEXT", esc(m.text))
      end
      h[#h + 1] = "</details>"
    end
    h[#h + 1] = "</section>"
  end
  h[#h + 1] = "</body></html>"
  return table.concat(h, "\n")
end

return M
