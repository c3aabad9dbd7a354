-- render: writes a run's results.json (everything), junit.xml (for CI), index.html (summary,
-- identity, PICS, PIXIT, baseline comparison, coverage matrix, links) and one page per scenario
-- under pages/, from the runner's table. Called by piclab at the end of a run; returns the
-- render function, which returns { regressions = n } (against --baseline, else 0).
local cjson = require("cjson")
local util = require("util")
local identity = require("identity")
local picsmod = require("pics")
local compare = require("compare")

local VERDICTS = { "pass", "fail", "inconc", "error", "skip", "n/a" }

local function results_json(run, id, pics, pixit, cmp)
  local counts = { flaky = 0 }
  for _, v in ipairs(VERDICTS) do counts[v] = 0 end
  local list = {}
  for _, s in ipairs(run.scenarios) do
    counts[s.verdict] = (counts[s.verdict] or 0) + 1
    if util.flaky(s) then counts.flaky = counts.flaky + 1 end
    local dir = s.verdict ~= "n/a" and util.relpath(s.dir, run.out) or ""
    list[#list + 1] = {
      name = s.name, file = s.file, title = s.title, verdict = s.verdict, shown = util.shown(s),
      flaky = util.flaky(s), runs = s.runs, runs_passed = s.runs_passed, history = s.history,
      category = s.category, xfail = s.xfail, reason = s.reason, where = s.where,
      seconds = s.seconds, packets = s.packets, assertions = s.assertions,
      workers = s.workers,
      covers = util.split(s.covers), tags = util.split(s.tags), waived = s.waived,
      config_digest = s.config_digest, evidence = s.evidence, dir = dir, page = util.page(s.name),
      fail_frame = s.fail_frame, fail_frame_exact = s.fail_frame_exact,
      artifacts = dir ~= "" and { capture = dir .. "/capture.pcapng", pcap = dir .. "/capture.pcap",
                    keylog = dir .. "/keys.log", lab_log = dir .. "/lab.log",
                    sut_log = dir .. "/sut.log" } or nil,
    }
  end
  return cjson.encode({
    format = "piclab-results/2", out = run.out, seconds = run.seconds, seed = run.seed,
    identity = id, pics = picsmod.summary(pics), pixit = pixit, counts = counts,
    baseline = cmp and { file = run.baseline, counts = cmp.counts, regressions = cmp.regressions,
                         rows = cmp.rows } or nil,
    scenarios = list,
  })
end

return function(run)
  local pics, err = picsmod.load(run.root, run.pics and run.pics ~= "" and run.pics or
    (run.root .. "/reports/pics/accessproxy.pics"))
  if not pics then error(err) end
  -- a merge of shards brings the identity and PIXIT of the runs it merges
  local id = run.identity or identity.identity(run)
  local pixit = run.pixit or identity.pixit(run)
  local cmp
  if (run.baseline and run.baseline ~= "") or (run.xfail and run.xfail ~= "") then
    -- expected failures alone: classified against an empty baseline
    local base, xf = { scenarios = {} }, nil
    if run.baseline and run.baseline ~= "" then
      base, err = compare.load_results(run.baseline)
      if not base then error("baseline: " .. err) end
    end
    xf, err = compare.load_xfail(run.xfail)
    if not xf then error(err) end
    cmp = compare.compare(base, run, xf)
    local byname = {}
    for _, r in ipairs(cmp.rows) do byname[r.name] = r end
    for _, s in ipairs(run.scenarios) do
      s.category = byname[s.name] and byname[s.name].category
      s.xfail = xf[s.name]
    end
    compare.print(cmp)
  end
  os.execute("mkdir -p '" .. run.out .. "/pages'")
  local page = require("page")
  for _, s in ipairs(run.scenarios) do
    util.write(run.out .. "/" .. util.page(s.name), page.render(run, s, pics))
  end
  util.write(run.out .. "/report.css", require("html").CSS)
  util.write(run.out .. "/results.json", results_json(run, id, pics, pixit, cmp) .. "\n")
  util.write(run.out .. "/junit.xml", require("junit").render(run, id, picsmod.summary(pics)))
  util.write(run.out .. "/index.html", require("html").render(run, id, pics, pixit, cmp))
  return { regressions = cmp and cmp.regressions or 0 }
end
