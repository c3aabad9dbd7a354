-- junit: junit.xml as CI tools read it (Jenkins junit, GitLab): one testsuite per area with
-- its counts, timestamp, host and the run's identity as properties; one testcase per scenario
-- with its assertion count, requirement ids, verdict and baseline category as properties, and
-- its files as [[ATTACHMENT|path]] lines. Valid against reports/junit.xsd.
--   pass: no child; fail, flaky: <failure type=...>; error: <error>; skip, inconc, n/a:
--   <skipped message="verdict: reason"> (the verdict property tells them apart).
local util = require("util")
local identity = require("identity")
local xml = util.xml
local M = {}

local FILES = { "capture.pcapng", "capture.pcap", "keys.log", "lab.log", "sut.log" }

-- An attachment line for a file of the run, when the file is there. CI tools resolve the path
-- from the checkout, not from junit.xml: Jenkins' junit-attachments from the workspace, GitLab
-- from the project folder (CI_PROJECT_DIR). So the path is relative to the project root, or
-- absolute for a run folder outside it.
local function attachment(run, path)
  local f = io.open(path, "r")
  if not f then return nil end
  f:close()
  return string.format("[[ATTACHMENT|%s]]", xml(util.relpath(path, run.root or "")))
end

function M.render(run, id, pics)
  local suites, order = {}, {}
  for _, s in ipairs(run.scenarios) do
    local area = s.name:match("^([^/]+)/") or "scenarios"
    if not suites[area] then
      suites[area] = { cases = {}, failures = 0, errors = 0, skipped = 0, time = 0, assertions = 0 }
      order[#order + 1] = area
    end
    local su = suites[area]
    local v = util.shown(s)
    su.cases[#su.cases + 1] = s
    su.time = su.time + s.seconds
    su.assertions = su.assertions + (s.assertions or 0)
    if v == "fail" or v == "flaky" then su.failures = su.failures + 1
    elseif v == "error" then su.errors = su.errors + 1
    elseif v ~= "pass" then su.skipped = su.skipped + 1 end
  end
  local total = { tests = 0, failures = 0, errors = 0, skipped = 0, time = 0 }
  for _, area in ipairs(order) do
    local su = suites[area]
    total.tests = total.tests + #su.cases
    total.failures = total.failures + su.failures
    total.errors = total.errors + su.errors
    total.skipped = total.skipped + su.skipped
    total.time = total.time + su.time
  end
  local out = { '<?xml version="1.0" encoding="UTF-8"?>',
    string.format('<testsuites name="piclab %s" tests="%d" failures="%d" errors="%d" skipped="%d" time="%.3f">',
      xml(id.run_id), total.tests, total.failures, total.errors, total.skipped, total.time) }
  local idrows = identity.rows(id)
  for _, area in ipairs(order) do
    local su = suites[area]
    out[#out + 1] = string.format(
      '  <testsuite name="%s" tests="%d" failures="%d" errors="%d" skipped="%d" assertions="%d" time="%.3f" timestamp="%s" hostname="%s">',
      xml(area), #su.cases, su.failures, su.errors, su.skipped, su.assertions, su.time,
      xml((id.start or ""):gsub("Z$", "")), xml(id.host))
    out[#out + 1] = "    <properties>"
    for _, r in ipairs(idrows) do
      out[#out + 1] = string.format('      <property name="%s" value="%s"/>', xml(r[1]), xml(r[2]))
    end
    out[#out + 1] = string.format('      <property name="pics.mandatory_implemented" value="%s"/>',
      pics.mandatory_implemented and "yes" or "no")
    out[#out + 1] = "    </properties>"
    for _, s in ipairs(su.cases) do
      local v = util.shown(s)
      -- one class per scenario, in a package per area: Jenkins' junit-attachments keeps one file
      -- of a name per class, so scenarios sharing a class would all show the first's capture
      out[#out + 1] = string.format('    <testcase classname="piclab.%s" name="%s" time="%.3f" assertions="%d" file="%s">',
        xml((s.name:gsub("/", "."))), xml(s.name), s.seconds, s.assertions or 0,
        xml(util.relpath(s.file or "", run.root or "")))
      out[#out + 1] = "      <properties>"
      out[#out + 1] = string.format('        <property name="verdict" value="%s"/>', xml(v))
      if s.category then
        out[#out + 1] = string.format('        <property name="category" value="%s"/>', xml(s.category))
      end
      out[#out + 1] = string.format('        <property name="title" value="%s"/>', xml(s.title))
      for _, rid in ipairs(util.split(s.covers)) do
        out[#out + 1] = string.format('        <property name="requirement" value="%s"/>', xml(rid))
      end
      if (s.runs or 1) > 1 then
        out[#out + 1] = string.format('        <property name="runs" value="%d/%d passed: %s"/>',
          s.runs_passed, s.runs, xml(s.history))
      end
      if s.evidence then
        out[#out + 1] = string.format('        <property name="evidence" value="frame %d, message #%d (%s)"/>',
          s.evidence.frame, s.evidence.index, xml(s.evidence.label))
      end
      out[#out + 1] = "      </properties>"
      local msg = (s.where ~= "" and (s.where .. ": ") or "") .. s.reason
      if v == "fail" or v == "flaky" then
        if v == "flaky" then msg = string.format("flaky: %d of %d runs passed (%s); %s", s.runs_passed, s.runs, s.history, msg) end
        out[#out + 1] = string.format('      <failure type="%s" message="%s">%s</failure>', v, xml(msg), xml(msg))
      elseif v == "error" then
        out[#out + 1] = string.format('      <error type="error" message="%s">%s</error>', xml(msg), xml(msg))
      elseif v ~= "pass" then
        out[#out + 1] = string.format('      <skipped message="%s: %s"/>', xml(v), xml(msg))
      end
      if v ~= "n/a" then
        local lines = { attachment(run, run.out .. "/" .. util.page(s.name)) }
        for _, f in ipairs(FILES) do lines[#lines + 1] = attachment(run, s.dir .. "/" .. f) end
        if #lines > 0 then
          out[#out + 1] = "      <system-out>"
          for _, l in ipairs(lines) do out[#out + 1] = l end
          out[#out + 1] = "      </system-out>"
        end
      end
      out[#out + 1] = "    </testcase>"
    end
    out[#out + 1] = "  </testsuite>"
  end
  out[#out + 1] = "</testsuites>"
  return table.concat(out, "\n") .. "\n"
end

return M
