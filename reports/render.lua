-- render: writes a run's results.json (everything) and junit.xml (for CI) from the runner's
-- table. Called by piclab at the end of a run; returns the render function.
local cjson = require("cjson")

local function split(s)
  local t = {}
  for w in (s or ""):gmatch("%S+") do t[#t + 1] = w end
  return t
end

local function xml(s)
  return (tostring(s or ""):gsub("[%z\1-\8\11\12\14-\31]", "?")
    :gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;"):gsub('"', "&quot;"))
end

local function relpath(path, base)
  if path:sub(1, #base + 1) == base .. "/" then return path:sub(#base + 2) end
  return path
end

local function write(path, text)
  local f = assert(io.open(path .. ".tmp", "w"))
  f:write(text)
  f:close()
  assert(os.rename(path .. ".tmp", path))
end

local function results_json(run)
  local counts = { pass = 0, fail = 0, error = 0, skip = 0 }
  local list = {}
  for _, s in ipairs(run.scenarios) do
    counts[s.verdict] = (counts[s.verdict] or 0) + 1
    local dir = relpath(s.dir, run.out)
    list[#list + 1] = {
      name = s.name, file = s.file, title = s.title, verdict = s.verdict,
      reason = s.reason, where = s.where, seconds = s.seconds, packets = s.packets,
      workers = s.workers,
      covers = split(s.covers), tags = split(s.tags), waived = s.waived,
      dir = dir,
      artifacts = { capture = dir .. "/capture.pcapng", pcap = dir .. "/capture.pcap", keylog = dir .. "/keys.log",
                    lab_log = dir .. "/lab.log", sut_log = dir .. "/sut.log" },
    }
  end
  return cjson.encode({
    format = "piclab-results/1", out = run.out, seconds = run.seconds, seed = run.seed,
    counts = counts, scenarios = list,
  })
end

-- JUnit XML: one testsuite per area (first path element), one testcase per scenario with a
-- unique name, requirement ids as properties, attachments as [[ATTACHMENT|path]] lines.
local function junit_xml(run)
  local suites, order = {}, {}
  for _, s in ipairs(run.scenarios) do
    local area = s.name:match("^([^/]+)/") or "scenarios"
    if not suites[area] then
      suites[area] = { cases = {}, failures = 0, errors = 0, skipped = 0, time = 0 }
      order[#order + 1] = area
    end
    local su = suites[area]
    su.cases[#su.cases + 1] = s
    su.time = su.time + s.seconds
    if s.verdict == "fail" then su.failures = su.failures + 1 end
    if s.verdict == "error" then su.errors = su.errors + 1 end
    if s.verdict == "skip" then su.skipped = su.skipped + 1 end
  end
  local out = { '<?xml version="1.0" encoding="UTF-8"?>', "<testsuites>" }
  for _, area in ipairs(order) do
    local su = suites[area]
    out[#out + 1] = string.format(
      '  <testsuite name="%s" tests="%d" failures="%d" errors="%d" skipped="%d" time="%.3f">',
      xml(area), #su.cases, su.failures, su.errors, su.skipped, su.time)
    for _, s in ipairs(su.cases) do
      out[#out + 1] = string.format('    <testcase classname="piclab.%s" name="%s" time="%.3f">',
        xml(area), xml(s.name), s.seconds)
      out[#out + 1] = "      <properties>"
      out[#out + 1] = string.format('        <property name="title" value="%s"/>', xml(s.title))
      for _, id in ipairs(split(s.covers)) do
        out[#out + 1] = string.format('        <property name="requirement" value="%s"/>', xml(id))
      end
      out[#out + 1] = "      </properties>"
      local msg = (s.where ~= "" and (s.where .. ": ") or "") .. s.reason
      if s.verdict == "fail" then
        out[#out + 1] = string.format('      <failure message="%s">%s</failure>', xml(msg), xml(msg))
      elseif s.verdict == "error" then
        out[#out + 1] = string.format('      <error message="%s">%s</error>', xml(msg), xml(msg))
      elseif s.verdict == "skip" then
        out[#out + 1] = string.format('      <skipped message="%s"/>', xml(msg))
      end
      local dir = relpath(s.dir, run.out)
      out[#out + 1] = "      <system-out>"
      for _, f in ipairs({ "capture.pcapng", "capture.pcap", "keys.log", "lab.log", "sut.log" }) do
        out[#out + 1] = string.format("[[ATTACHMENT|%s/%s]]", xml(dir), f)
      end
      out[#out + 1] = "      </system-out>"
      out[#out + 1] = "    </testcase>"
    end
    out[#out + 1] = "  </testsuite>"
  end
  out[#out + 1] = "</testsuites>"
  return table.concat(out, "\n") .. "\n"
end

return function(run)
  write(run.out .. "/results.json", results_json(run) .. "\n")
  write(run.out .. "/junit.xml", junit_xml(run))
  write(run.out .. "/index.html", require("html").render(run, run.root))
end
