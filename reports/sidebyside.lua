-- sidebyside: two runs next to each other, requirement by requirement and scenario by scenario
-- (typically the same suite against two SUT kinds: accessproxy and kamailio). For `piclab
-- compare A B`: the terminal gets the requirements whose status differs, --html FILE a page
-- with every requirement, each run's SUT kind and identity, and the verdicts of both.
local util = require("util")
local catalog = require("catalog")
local picsmod = require("pics")
local esc = util.esc
local M = {}

-- Per requirement id: its status in one run (failing, inconc, passing, skipped, n/a, untested,
-- the same order of precedence as the report's coverage matrix) and the scenarios covering it.
-- n/a only where the run's recorded PICS makes the requirement n/a (with ROOT's definitions).
function M.req_status(run, root)
  local by_req, status = {}, {}
  local pics = root and picsmod.from_results(root, run.pics)
  for _, s in ipairs(run.scenarios or {}) do
    local covers = type(s.covers) == "table" and s.covers or util.split(s.covers)
    for _, id in ipairs(covers) do
      by_req[id] = by_req[id] or {}
      table.insert(by_req[id], s)
    end
  end
  for id, list in pairs(by_req) do
    local st
    for _, s in ipairs(list) do
      local v = util.shown(s)
      if v == "fail" or v == "error" or v == "flaky" then st = "failing"; break end
      if v == "inconc" then st = "inconc"
      elseif v == "pass" and st ~= "inconc" then st = "passing"
      elseif v == "skip" and not st then st = "skipped" end
    end
    status[id] = st or "untested"
  end
  for id in pairs(pics and pics.req or {}) do
    if picsmod.req_na(pics, id) then status[id] = "n/a" end
  end
  return status, by_req
end

-- "kind: identity" of a run's SUT, from its results.json identity.
function M.sut_label(run)
  local sut = run.identity and run.identity.sut or {}
  local kind = sut.kind or "accessproxy"
  local said = sut.identity ~= "" and sut.identity or sut.version
  return kind, said or ""
end

-- { rows = {{id, text, a, b, differ}...}, differ = n, counts_a, counts_b } over the catalog
-- (ids only one run names are added at the end).
function M.rows(root, a, b)
  local list = catalog.load(root)
  local sa, ra = M.req_status(a, root)
  local sb, rb = M.req_status(b, root)
  local rows, seen, differ = {}, {}, 0
  local ca, cb = {}, {}
  local function add(id, text)
    local x, y = sa[id] or "untested", sb[id] or "untested"
    rows[#rows + 1] = { id = id, text = text, a = x, b = y, differ = x ~= y,
                        sa = ra[id] or {}, sb = rb[id] or {} }
    ca[x] = (ca[x] or 0) + 1
    cb[y] = (cb[y] or 0) + 1
    if x ~= y then differ = differ + 1 end
    seen[id] = true
  end
  for _, r in ipairs(list) do add(r.id, r.text) end
  local extra = {}
  for id in pairs(sa) do if not seen[id] then extra[#extra + 1] = id end end
  for id in pairs(sb) do if not seen[id] and not sa[id] then extra[#extra + 1] = id end end
  table.sort(extra)
  for _, id in ipairs(extra) do add(id, "(not in reports/requirements.tsv)") end
  return { rows = rows, differ = differ, counts_a = ca, counts_b = cb }
end

local ORDER = { "passing", "failing", "inconc", "skipped", "n/a", "untested" }

local function counts_str(c)
  local parts = {}
  for _, k in ipairs(ORDER) do
    if c[k] then parts[#parts + 1] = c[k] .. " " .. k end
  end
  return table.concat(parts, ", ")
end

-- The terminal: one line per run, then the requirements whose status differs.
function M.print(sbs, a, b, out)
  out = out or io.stdout
  local ka, ia = M.sut_label(a)
  local kb, ib = M.sut_label(b)
  out:write(string.format("A: %s (%s): %s\n", ka, ia, counts_str(sbs.counts_a)))
  out:write(string.format("B: %s (%s): %s\n", kb, ib, counts_str(sbs.counts_b)))
  for _, r in ipairs(sbs.rows) do
    if r.differ then out:write(string.format("%-10s A %-9s B %s\n", r.id, r.a, r.b)) end
  end
  out:write(string.format("requirements: %d of %d differ between A and B\n", sbs.differ, #sbs.rows))
end

local function badges(list)
  local t = {}
  for _, s in ipairs(list) do
    local v = util.shown(s)
    t[#t + 1] = string.format('<span class="badge %s" title="%s">%s %s</span>', util.css_class(v),
      esc(s.reason or ""), esc(s.name), esc(v))
  end
  return table.concat(t, " ")
end

-- The page: both identities, the requirement matrix (differences first marked), then every
-- scenario with both verdicts and reasons.
function M.html(sbs, a, b, apath, bpath)
  local ka, ia = M.sut_label(a)
  local kb, ib = M.sut_label(b)
  local h = { '<!DOCTYPE html><html><head><meta charset="utf-8"><title>PIClab: ' .. esc(ka) ..
    " vs " .. esc(kb) .. "</title><style>" .. require("html").CSS ..
    "tr.differ td.id{font-weight:bold;border-left:4px solid #d00} td.id{white-space:nowrap}</style></head><body>",
    "<h1>Side by side: " .. esc(ka) .. " and " .. esc(kb) .. "</h1>",
    '<table class="id"><tr><th></th><th>A</th><th>B</th></tr>' }
  local function row(label, x, y)
    h[#h + 1] = string.format("<tr><th>%s</th><td>%s</td><td>%s</td></tr>", esc(label), esc(x), esc(y))
  end
  local ida, idb = a.identity or {}, b.identity or {}
  row("run", apath, bpath)
  row("SUT kind", ka, kb)
  row("SUT identity", ia, ib)
  row("SUT binary", (ida.sut or {}).binary or "", (idb.sut or {}).binary or "")
  row("run id", ida.run_id or "", idb.run_id or "")
  local function seed(r) return tonumber(r.seed) and string.format("%d", r.seed) or tostring(r.seed or "") end
  row("seed", seed(a), seed(b))
  row("requirements", counts_str(sbs.counts_a), counts_str(sbs.counts_b))
  h[#h + 1] = "</table>"
  h[#h + 1] = string.format('<h2 id="differ">Where they differ: %d of %d requirements</h2>',
    sbs.differ, #sbs.rows)
  if sbs.differ > 0 then
    h[#h + 1] = "<table><tr><th>id</th><th>A: " .. esc(ka) .. "</th><th>B: " .. esc(kb) .. "</th><th>requirement</th></tr>"
    for _, r in ipairs(sbs.rows) do
      if r.differ then
        h[#h + 1] = string.format('<tr class="differ"><td class="id"><a href="#req-%s">%s</a></td><td class="%s">%s</td><td class="%s">%s</td><td>%s</td></tr>',
          esc(r.id), esc(r.id), util.css_class(r.a), esc(r.a), util.css_class(r.b), esc(r.b), esc(r.text))
      end
    end
    h[#h + 1] = "</table>"
  end
  h[#h + 1] = '<h2 id="requirements">Requirement by requirement</h2><table>' ..
    "<tr><th>id</th><th>requirement</th><th>A: " .. esc(ka) .. "</th><th>B: " .. esc(kb) ..
    "</th><th>A scenarios</th><th>B scenarios</th></tr>"
  for _, r in ipairs(sbs.rows) do
    h[#h + 1] = string.format('<tr id="req-%s" class="%s"><td class="id">%s</td><td>%s</td>' ..
      '<td class="%s">%s</td><td class="%s">%s</td><td>%s</td><td>%s</td></tr>',
      esc(r.id), r.differ and "differ" or "same", esc(r.id), esc(r.text), util.css_class(r.a),
      esc(r.a), util.css_class(r.b), esc(r.b), badges(r.sa), badges(r.sb))
  end
  h[#h + 1] = '</table><h2 id="scenarios">Scenario by scenario</h2><table>' ..
    "<tr><th>scenario</th><th>A</th><th>A reason</th><th>B</th><th>B reason</th></tr>"
  local names, va, vb = {}, {}, {}
  for _, s in ipairs(a.scenarios or {}) do va[s.name] = s; names[#names + 1] = s.name end
  for _, s in ipairs(b.scenarios or {}) do
    vb[s.name] = s
    if not va[s.name] then names[#names + 1] = s.name end
  end
  table.sort(names)
  for _, n in ipairs(names) do
    local x, y = va[n], vb[n]
    local vx, vy = x and util.shown(x) or "(absent)", y and util.shown(y) or "(absent)"
    h[#h + 1] = string.format('<tr class="%s"><td class="id">%s</td><td class="%s">%s</td><td>%s</td>' ..
      '<td class="%s">%s</td><td>%s</td></tr>', vx ~= vy and "differ" or "same", esc(n),
      util.css_class(vx), esc(vx), esc(x and x.reason or ""), util.css_class(vy), esc(vy),
      esc(y and y.reason or ""))
  end
  h[#h + 1] = "</table></body></html>\n"
  return table.concat(h, "\n")
end

return M
