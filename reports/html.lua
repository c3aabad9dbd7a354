-- html: the report's index.html — identity, summary and verdict counts, the PICS statement, the
-- PIXIT, the baseline comparison, the requirement coverage matrix and one line per scenario,
-- linking to the scenario pages (pages/*.html) that hold ladders, messages and evidence. It stays
-- small (under 1 MB for 1,000 scenarios): no capture content here.
local util = require("util")
local identity = require("identity")
local catalog = require("catalog")
local picsmod = require("pics")
local compare = require("compare")
local esc = util.esc
local M = {}

M.CSS = [[
body{font-family:sans-serif;margin:2em;color:#222} h1{margin-bottom:0}
table{border-collapse:collapse;margin:1em 0} td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
.pass,.passing{background:#d8f5d8}.fail,.failing,.flaky{background:#f8d0d0}.error{background:#f5e0b0}
.skip,.skipped{background:#e0e0e0}.inconc{background:#f5f0a0}.na,.n_a{background:#eef;color:#557}
.untested{background:#f4f4f4;color:#777}.cat{background:#e8e0f8}
.badge{display:inline-block;padding:0 6px;margin:1px;border-radius:3px;font-size:90%;text-decoration:none;color:#222}
td.rid{white-space:nowrap} table.id td{font-family:monospace;font-size:85%;word-break:break-all} .statement{font-size:110%;font-weight:bold}
pre{background:#f6f6f6;padding:6px;overflow-x:auto;font-size:85%;white-space:pre-wrap}
.ladder{border:1px solid #eee;background:#fff;max-width:100%;height:auto} .reason{color:#800}
details.evidence{border:2px solid #d00} details.msg summary{cursor:pointer}
@media print{
  body{margin:0;font-size:10pt} a{color:#000;text-decoration:none} .nav,script{display:none}
  table{page-break-inside:auto} tr{page-break-inside:avoid} h2{page-break-after:avoid}
  details{display:block} details>summary{list-style:none} .badge{border:1px solid #888}
  .ladder{max-width:100%}
  @page{size:A4;margin:12mm}
}
]]

local function badge(v, text)
  return string.format('<span class="badge %s">%s</span>', util.css_class(v), esc(text or v))
end

-- Per requirement: n/a (PICS), failing, inconc, passing, skipped, untested.
local function req_status(pics, id, scens)
  if picsmod.req_na(pics, id) then return "n/a" end
  local st
  for _, s in ipairs(scens or {}) do
    local v = util.shown(s)
    if v == "fail" or v == "error" or v == "flaky" then return "failing" end
    if v == "inconc" then st = "inconc"
    elseif v == "pass" and st ~= "inconc" then st = "passing"
    elseif v == "skip" and not st then st = "skipped" end
  end
  return st or "untested"
end

-- The last `make mutants` run (reports/out/mutants/latest/results.json), or nil.
local function load_mutants(root)
  local f = io.open(root .. "/reports/out/mutants/latest/results.json", "r")
  if not f then return nil end
  local ok, m = pcall(require("cjson").decode, f:read("a"))
  f:close()
  return ok and type(m) == "table" and m.mutants and m or nil
end

-- Per requirement id: the mutants killed by a scenario covering it (the ids the killing
-- scenarios covered in the mutation run, else as this run's scenarios cover them), and the
-- mutants that declare it and survived.
local function mutants_by_req(mut, run)
  local covers, killed, survived = {}, {}, {}
  for _, s in ipairs(run.scenarios) do covers[s.name] = util.split(s.covers) end
  for _, m in ipairs(mut and mut.mutants or {}) do
    local ids = m.killed_reqs or {}
    if #ids == 0 then
      for _, scen in ipairs(m.killed_by or {}) do
        for _, id in ipairs(covers[scen] or {}) do ids[#ids + 1] = id end
      end
    end
    local seen = {}
    for _, id in ipairs(ids) do
      if not seen[id] then
        seen[id] = true
        killed[id] = killed[id] or {}
        table.insert(killed[id], m.name)
      end
    end
    if m.status ~= "killed" then
      for _, id in ipairs(m.reqs or {}) do
        survived[id] = survived[id] or {}
        table.insert(survived[id], m.name)
      end
    end
  end
  return killed, survived
end

function M.render(run, id, pics, pixit, cmp)
  local list = catalog.load(run.root)
  local by_req, counts = {}, { flaky = 0 }
  local mut = load_mutants(run.root)
  local mkilled, msurvived = mutants_by_req(mut, run)
  for _, s in ipairs(run.scenarios) do
    local v = util.shown(s)
    counts[v] = (counts[v] or 0) + 1
    for _, rid in ipairs(util.split(s.covers)) do
      by_req[rid] = by_req[rid] or {}
      table.insert(by_req[rid], s)
    end
  end
  local ok, missing = picsmod.mandatory_ok(pics)
  local h = { '<!DOCTYPE html><html><head><meta charset="utf-8"><title>PIClab compliance report</title>',
    '<link rel="stylesheet" href="report.css"></head><body>',
    "<h1>PIClab compliance report</h1>" }
  local parts = {}
  for _, v in ipairs({ "pass", "fail", "flaky", "inconc", "error", "skip", "n/a" }) do
    parts[#parts + 1] = badge(v, string.format("%d %s", counts[v] or 0, v))
  end
  h[#h + 1] = string.format('<p id="summary">Run <code>%s</code>: %d scenarios in %.1f s, seed %s — %s</p>',
    esc(id.run_id), #run.scenarios, run.seconds, esc(run.seed), table.concat(parts, " "))
  h[#h + 1] = string.format('<p class="statement" id="statement">All mandatory capabilities implemented: %s%s</p>',
    ok and "yes" or "no", ok and "" or (" (missing: " .. esc(table.concat(missing, ", ")) .. ")"))
  h[#h + 1] = mut and string.format("<p>Last mutation run: score %d of %d (<code>make mutants</code>; " ..
    "per requirement, the mutants its scenarios kill)</p>", mut.score or 0, mut.total or 0)
    or "<p>No mutation run yet (<code>make mutants</code>).</p>"
  h[#h + 1] = '<h2 id="identity">Identity</h2><table class="id">'
  for _, r in ipairs(identity.rows(id)) do
    h[#h + 1] = string.format("<tr><th>%s</th><td>%s</td></tr>", esc(r[1]), esc(r[2]))
  end
  h[#h + 1] = "</table>"
  if cmp then
    h[#h + 1] = '<h2 id="baseline">Against the baseline</h2><p>Baseline <code>' ..
      esc(run.baseline ~= "" and run.baseline or "(none)") .. "</code>, expected failures <code>" ..
      esc(run.xfail ~= "" and run.xfail or "(none)") .. "</code>: "
    local cs = {}
    for _, c in ipairs(compare.ORDER) do
      if cmp.counts[c] then cs[#cs + 1] = badge(compare.REGRESSION[c] and "fail" or "cat", cmp.counts[c] .. " " .. c) end
    end
    h[#h + 1] = table.concat(cs, " ") .. string.format(" — %d regression%s</p>", cmp.regressions, cmp.regressions == 1 and "" or "s")
    h[#h + 1] = "<table><tr><th>category</th><th>scenario</th><th>now</th><th>was</th><th>expected failure</th></tr>"
    for _, r in ipairs(cmp.rows) do
      if r.category ~= "pass" then
        h[#h + 1] = string.format('<tr><td>%s</td><td><a href="%s">%s</a></td><td>%s</td><td>%s</td><td>%s</td></tr>',
          badge(compare.REGRESSION[r.category] and "fail" or "cat", r.category), util.page(r.name), esc(r.name),
          esc(r.now), esc(r.was), esc(r.xfail or ""))
      end
    end
    h[#h + 1] = "</table>"
  end
  h[#h + 1] = string.format('<h2 id="pics">PICS: %s</h2><p>From <code>%s</code>; items defined in reports/pics/items.tsv.</p>',
    esc(pics.sut), esc(pics.path))
  h[#h + 1] = "<table><tr><th>item</th><th>status</th><th>capability</th><th>supported</th><th>note</th></tr>"
  for _, it in ipairs(picsmod.summary(pics).items) do
    h[#h + 1] = string.format('<tr><td>%s</td><td>%s</td><td>%s</td><td class="%s">%s</td><td>%s</td></tr>',
      esc(it.item), it.status, esc(it.capability), it.supported and "pass" or (it.status == "m" and "fail" or "na"),
      it.supported and "yes" or "no", esc(it.note))
  end
  h[#h + 1] = '</table><h2 id="pixit">PIXIT</h2><p>The lab parameters a re-run needs (with the seed above).</p>'
  h[#h + 1] = "<table><tr><th>kind</th><th>parameter</th><th>value</th></tr>"
  for _, r in ipairs(pixit) do
    h[#h + 1] = string.format("<tr><td>%s</td><td>%s</td><td>%s</td></tr>", esc(r.group), esc(r.name), esc(r.value))
  end
  h[#h + 1] = '</table><h2 id="coverage">Requirement coverage</h2>'
  h[#h + 1] = "<table><tr><th>id</th><th>m/o/c</th><th>status</th><th>requirement</th><th>source</th><th>scenarios</th><th>mutants killed</th></tr>"
  for _, r in ipairs(list) do
    local st = req_status(pics, r.id, by_req[r.id])
    local sc = {}
    for _, s in ipairs(by_req[r.id] or {}) do
      local v = util.shown(s)
      sc[#sc + 1] = string.format('<a class="badge %s" href="%s">%s</a>', util.css_class(v), util.page(s.name), esc(s.name))
    end
    local mk = {}
    for _, name in ipairs(mkilled[r.id] or {}) do mk[#mk + 1] = '<span class="badge pass">' .. esc(name) .. '</span>' end
    for _, name in ipairs(msurvived[r.id] or {}) do mk[#mk + 1] = '<span class="badge fail">' .. esc(name) .. ' survived</span>' end
    h[#h + 1] = string.format('<tr id="req-%s" class="%s"><td class="rid">%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>',
      esc(r.id), util.css_class(st), esc(r.id), esc(picsmod.status(pics, r.id)), st, esc(r.text), esc(r.source),
      table.concat(sc, " "), table.concat(mk, " "))
  end
  h[#h + 1] = "</table>"
  if mut then
    h[#h + 1] = '<h2 id="mutants">Mutants</h2><table><tr><th>mutant</th><th>status</th><th>killed by</th><th>requirements</th><th>what is bent</th></tr>'
    for _, m in ipairs(mut.mutants) do
      h[#h + 1] = string.format('<tr><td>%s</td><td><span class="badge %s">%s</span></td><td>%s</td><td>%s</td><td>%s</td></tr>',
        esc(m.name), m.status == "killed" and "pass" or "fail", esc(m.status),
        esc(table.concat(m.killed_by or {}, ", ")), esc(table.concat(m.reqs or {}, ", ")), esc(m.what))
    end
    h[#h + 1] = "</table>"
  end
  h[#h + 1] = '<h2 id="scenarios">Scenarios</h2>'
  h[#h + 1] = "<table><tr><th>verdict</th><th>scenario</th><th>s</th><th>reason / evidence</th></tr>"
  for _, s in ipairs(run.scenarios) do
    local v = util.shown(s)
    local why = ""
    if s.verdict ~= "pass" or util.flaky(s) then
      local r = (s.where ~= "" and (s.where .. ": ") or "") .. s.reason
      if #r > 160 then r = r:sub(1, 157) .. "..." end
      why = esc(r)
    end
    if s.evidence then
      why = why .. string.format(' <a class="evidence" href="%s#msg-%d">frame %d, message #%d</a>',
        util.page(s.name), s.evidence.index, s.evidence.frame, s.evidence.index)
    end
    h[#h + 1] = string.format('<tr class="%s"><td>%s%s</td><td><a href="%s">%s</a></td><td>%.1f</td><td>%s</td></tr>',
      util.css_class(v), v, s.category and (" · " .. esc(s.category)) or "", util.page(s.name), esc(s.name), s.seconds, why)
  end
  h[#h + 1] = "</table></body></html>"
  return table.concat(h, "\n")
end

return M
