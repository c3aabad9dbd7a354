-- compare: classifies each scenario of a run against a baseline run (Osmocom-style result
-- comparison), for `piclab run --baseline` and `piclab compare A B`.
--   pass         passed in both
--   FAIL         passed in the baseline, not now (a regression)
--   fail         failed in both (still failing, not expected to)
--   fixed        failed in the baseline, passes now
--   new-pass     not in the baseline, passes
--   new-fail     not in the baseline, fails (a regression)
--   xfail        fails, and the expected-failures file lists it (with its reason)
--   xfail->PASS  listed as expected to fail, but passes: take it off the list
--   flaky        mixed verdicts over --repeat runs (never counted as pass)
--   removed      in the baseline, not in this run
--   skip, inconc, n/a, error: those verdicts now (error counts as a failure)
-- Regressions (FAIL, new-fail, fail, error, flaky) make the exit status 1; xfail does not.
local cjson = require("cjson")
local M = {}

M.ORDER = { "FAIL", "new-fail", "fail", "error", "flaky", "xfail->PASS", "fixed", "new-pass",
            "xfail", "pass", "inconc", "skip", "n/a", "removed" }
M.REGRESSION = { FAIL = true, ["new-fail"] = true, fail = true, error = true, flaky = true }

local function bad(v) return v == "fail" or v == "error" end

-- A run folder or a results.json file -> the decoded results, or nil and why.
function M.load_results(path)
  local f = io.open(path .. "/results.json", "r") or io.open(path, "r")
  if not f then return nil, path .. ": neither a run folder with results.json nor a results file" end
  local text = f:read("a")
  f:close()
  local ok, t = pcall(cjson.decode, text)
  if not ok or type(t) ~= "table" or type(t.scenarios) ~= "table" then
    return nil, path .. ": not a piclab results.json (" .. tostring(ok and "no scenarios" or t) .. ")"
  end
  return t
end

-- Expected failures: "scenario-name<TAB or spaces>reason" lines, # comments. A name without a
-- reason is refused: an expected failure must say why.
function M.load_xfail(path)
  local list = {}
  if not path or path == "" then return list end
  local f, err = io.open(path, "r")
  if not f then return nil, "expected failures: " .. err end
  local n = 0
  for line in f:lines() do
    n = n + 1
    if line:match("%S") and not line:match("^%s*#") then
      local name, reason = line:match("^%s*(%S+)%s+(%S.-)%s*$")
      if not name then
        f:close()
        return nil, string.format("%s:%d: '%s' has no reason (want: scenario-name reason)", path,
          n, line)
      end
      list[name] = reason
    end
  end
  f:close()
  return list
end

local function flaky(s)
  return (s.runs or 1) > 1 and (s.runs_passed or 0) > 0 and s.runs_passed < s.runs
end

-- One category for scenario now (a table from results.json or the runner) against was (the
-- baseline's, or nil); xreason: its expected-failure reason or nil.
function M.classify(now, was, xreason)
  if not now then return "removed" end
  local v = now.verdict
  if flaky(now) then return "flaky" end
  if v == "n/a" or v == "skip" or v == "inconc" then return v end
  if xreason then return bad(v) and "xfail" or "xfail->PASS" end
  if v == "error" then return "error" end
  -- a baseline that did not judge it (n/a, skip, inconc) is no baseline for it
  if was and (was.verdict == "n/a" or was.verdict == "skip" or was.verdict == "inconc") then
    was = nil
  end
  if not was then return v == "pass" and "new-pass" or "new-fail" end
  local w = was.verdict
  if v == "pass" then return bad(w) and "fixed" or "pass" end
  return w == "pass" and "FAIL" or "fail"
end

-- Returns { rows = {{name, category, now, was, xfail}...}, counts = {cat = n}, regressions = n }.
function M.compare(base, cur, xfail)
  local was, seen, rows, counts = {}, {}, {}, {}
  for _, s in ipairs(base.scenarios) do was[s.name] = s end
  local function add(name, cat, now, before)
    rows[#rows + 1] = { name = name, category = cat, now = now and now.verdict or "",
                        was = before and before.verdict or "", xfail = xfail[name] }
    counts[cat] = (counts[cat] or 0) + 1
  end
  for _, s in ipairs(cur.scenarios) do
    seen[s.name] = true
    add(s.name, M.classify(s, was[s.name], xfail[s.name]), s, was[s.name])
  end
  for _, s in ipairs(base.scenarios) do
    if not seen[s.name] then add(s.name, "removed", nil, s) end
  end
  local regressions = 0
  for cat, n in pairs(counts) do
    if M.REGRESSION[cat] then regressions = regressions + n end
  end
  return { rows = rows, counts = counts, regressions = regressions }
end

-- The terminal view: the rows that changed or need attention, then one line of counts.
function M.print(cmp, out)
  out = out or io.stdout
  for _, r in ipairs(cmp.rows) do
    if r.category ~= "pass" then
      out:write(string.format("%-12s %s%s%s\n", r.category, r.name,
        r.was ~= "" and (" (was " .. r.was .. ")") or "",
        r.xfail and (" — expected: " .. r.xfail) or ""))
    end
  end
  local parts = {}
  for _, c in ipairs(M.ORDER) do
    if cmp.counts[c] then parts[#parts + 1] = cmp.counts[c] .. " " .. c end
  end
  out:write("compared with baseline: ", table.concat(parts, ", "), "; ", cmp.regressions,
    " regression", cmp.regressions == 1 and "" or "s", "\n")
end

-- `piclab compare A B [--xfail FILE] [--html FILE]`: the scenario categories of B against A,
-- then the two runs side by side requirement by requirement (sidebyside.lua; --html writes the
-- page). Exit 0 no regressions, 1 some, 2 unreadable input.
function M.cli(a, b, xfail_path, root, html_path)
  local base, err = M.load_results(a)
  if not base then io.stderr:write("piclab compare: ", err, "\n"); return 2 end
  local cur
  cur, err = M.load_results(b)
  if not cur then io.stderr:write("piclab compare: ", err, "\n"); return 2 end
  local xf
  xf, err = M.load_xfail(xfail_path)
  if not xf then io.stderr:write("piclab compare: ", err, "\n"); return 2 end
  local cmp = M.compare(base, cur, xf)
  M.print(cmp)
  if root then
    local sbs = require("sidebyside")
    local rows = sbs.rows(root, base, cur)
    sbs.print(rows, base, cur)
    if html_path then
      local f, werr = io.open(html_path, "w")
      if not f then io.stderr:write("piclab compare: --html ", werr, "\n"); return 2 end
      f:write(sbs.html(rows, base, cur, a, b))
      f:close()
      print("side by side: " .. html_path)
    end
  end
  return cmp.regressions > 0 and 1 or 0
end

return M
