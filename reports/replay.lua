-- replay: writes a replay's run folder report — results.json (everything), junit.xml (one
-- testcase per dialog or transaction group) and index.html (the cast, the verdicts, and the
-- recorded and replayed ladders side by side with the failing transactions marked).
-- Called by `piclab replay`; returns the render function.
local cjson = require("cjson")

local function xml(s)
  return (tostring(s or ""):gsub("[%z\1-\8\11\12\14-\31]", "?")
    :gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;"):gsub('"', "&quot;"))
end

local function write(path, text)
  local f = assert(io.open(path .. ".tmp", "w"))
  f:write(text)
  f:close()
  assert(os.rename(path .. ".tmp", path))
end

local function counts(run)
  local c = { pass = 0, fail = 0 }
  for _, g in ipairs(run.groups) do c[g.verdict] = (c[g.verdict] or 0) + 1 end
  return c
end

local function results_json(run)
  return cjson.encode({
    format = "piclab-replay/1", capture = run.capture, expect = run.expect, out = run.out,
    seconds = run.seconds, proxy_alive = run.sut_alive, lab_error = run.lab_error,
    counts = counts(run), cast = run.cast, groups = run.groups,
    artifacts = { capture = "capture.pcapng", pcap = "capture.pcap", keylog = "keys.log",
                  lab_log = "lab.log", sut_log = "sut.log", cast = "cast.txt" },
  })
end

local function junit_xml(run)
  local c = counts(run)
  local out = { '<?xml version="1.0" encoding="UTF-8"?>',
    string.format('<testsuites name="piclab replay" tests="%d" failures="%d" time="%.3f">',
      #run.groups, c.fail, run.seconds),
    string.format('  <testsuite name="replay" tests="%d" failures="%d">', #run.groups, c.fail),
    '    <properties><property name="capture" value="' .. xml(run.capture) ..
      '"/><property name="expect" value="' .. xml(run.expect) .. '"/></properties>' }
  for _, g in ipairs(run.groups) do
    out[#out + 1] = string.format('    <testcase classname="replay" name="%s">', xml(g.name))
    if g.verdict ~= "pass" then
      local why = {}
      for _, t in ipairs(g.transactions) do
        if t.verdict ~= "pass" then
          why[#why + 1] = string.format("%s (frame %d): %s", t.name, t.frame, t.diff)
        end
      end
      if not run.sut_alive then why[#why + 1] = "the proxy or the lab died: " .. run.lab_error end
      out[#out + 1] = '      <failure message="' .. xml(why[1] or "failed") .. '">' ..
        xml(table.concat(why, "\n")) .. '</failure>'
    end
    out[#out + 1] = "      <system-out>[[ATTACHMENT|capture.pcapng]]</system-out>"
    out[#out + 1] = "    </testcase>"
  end
  out[#out + 1] = "  </testsuite>"
  out[#out + 1] = "</testsuites>"
  return table.concat(out, "\n") .. "\n"
end

-- One SVG ladder; columns in order of first appearance.
local function ladder(msgs, title)
  if #msgs == 0 then return "<p><em>no SIP messages</em></p>" end
  local cols, x = {}, {}
  for _, m in ipairs(msgs) do
    for _, h in ipairs({ m.src, m.dst }) do
      if not x[h] then cols[#cols + 1] = h; x[h] = 0 end
    end
  end
  local colw, top, step = 160, 40, 24
  for i, h in ipairs(cols) do x[h] = 80 + (i - 1) * colw end
  local width, height = 160 + (#cols - 1) * colw, top + #msgs * step + 10
  local out = { string.format('<h3>%s</h3><svg width="%d" height="%d" font-family="monospace" ' ..
    'font-size="10" xmlns="http://www.w3.org/2000/svg">', xml(title), width, height) }
  for _, h in ipairs(cols) do
    out[#out + 1] = string.format('<text x="%d" y="14" text-anchor="middle" font-weight="bold">%s</text>' ..
      '<line x1="%d" y1="20" x2="%d" y2="%d" stroke="#999"/>', x[h], xml(h), x[h], x[h], height)
  end
  for i, m in ipairs(msgs) do
    local y, x1, x2 = top + (i - 1) * step, x[m.src], x[m.dst]
    local color = m.bad and "#c00" or "#1f5fa8"
    local dir = x2 >= x1 and 1 or -1
    out[#out + 1] = string.format('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s"/>' ..
      '<polygon points="%d,%d %d,%d %d,%d" fill="%s"/>' ..
      '<text x="%d" y="%d" text-anchor="middle" fill="%s"><title>%s</title>%s [%d]</text>',
      x1, y, x2 - dir * 2, y, color, x2, y, x2 - dir * 7, y - 3, x2 - dir * 7, y + 3, color,
      (x1 + x2) // 2, y - 3, color, xml(m.text), xml(m.label), m.frame)
  end
  out[#out + 1] = "</svg>"
  return table.concat(out, "\n")
end

local function index_html(run)
  local c = counts(run)
  local o = { "<!DOCTYPE html><html><head><meta charset='utf-8'><title>piclab replay</title>",
    "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}" ..
    "td,th{border:1px solid #ccc;padding:2px 6px;vertical-align:top}.pass{background:#d8f5d8}" ..
    ".fail{background:#f8d0d0}.side{display:flex;gap:2em;align-items:flex-start}</style></head><body>",
    "<h1>Replay of " .. xml(run.capture) .. "</h1>",
    string.format("<p>--expect %s: %d passed, %d failed, %.2f s; proxy %s. " ..
      "<a href='capture.pcapng'>capture.pcapng</a> · <a href='keys.log'>keys.log</a> · " ..
      "<a href='lab.log'>lab.log</a> · <a href='sut.log'>sut.log</a></p>",
      xml(run.expect), c.pass, c.fail, run.seconds, run.sut_alive and "alive" or "DIED"),
    "<h2>Cast</h2><table><tr><th>address</th><th>role</th><th>names</th><th>why</th></tr>" }
  for _, e in ipairs(run.cast) do
    o[#o + 1] = string.format("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>",
      xml(e.address), xml(e.role), xml(e.names), xml(e.why))
  end
  o[#o + 1] = "</table><h2>Transactions</h2><table><tr><th>group</th><th>transaction</th>" ..
    "<th>frame</th><th>reached far side (rec/replay)</th><th>final (rec/replay)</th><th>differences</th></tr>"
  local badframes = {}
  for _, g in ipairs(run.groups) do
    for _, t in ipairs(g.transactions) do
      if t.verdict ~= "pass" then badframes[t.frame] = true end
      o[#o + 1] = string.format("<tr class='%s'><td>%s</td><td>%s</td><td>%d</td><td>%s / %s</td>" ..
        "<td>%d / %d</td><td>%s</td></tr>", t.verdict, xml(g.name), xml(t.name), t.frame,
        tostring(t.recorded_reached), tostring(t.replayed_reached), t.recorded_final,
        t.replayed_final, xml(t.diff))
    end
  end
  for _, m in ipairs(run.recorded) do m.bad = badframes[m.frame] end
  o[#o + 1] = "</table><h2>Ladders</h2><p>Recorded on the left (frame numbers of the source " ..
    "capture), replayed on the right (frames of capture.pcapng); red: a transaction that did not match.</p>"
  o[#o + 1] = "<div class='side'><div>" .. ladder(run.recorded, "recorded") .. "</div><div>" ..
    ladder(run.replayed, "replayed") .. "</div></div></body></html>"
  return table.concat(o, "\n")
end

return function(run)
  write(run.out .. "/results.json", results_json(run))
  write(run.out .. "/junit.xml", junit_xml(run))
  write(run.out .. "/index.html", index_html(run))
end
