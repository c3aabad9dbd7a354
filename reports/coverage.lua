-- coverage: every requirement id of the catalog as passing, failing, inconc, skipped, n/a or untested
-- in one run.
-- Returns function(root, run_dir, strict) -> exit code (0: no covered id fails, 1: one does;
-- with strict also 1 when an id is untested or covered only by skipped scenarios).
local cjson = require("cjson")
local catalog = require("catalog")
local picsmod = require("pics")

-- piclab coverage --list: the ids a scenario's covers can name, with their areas and texts.
local function list_ids(root)
  local area
  for _, r in ipairs((catalog.load(root))) do
    if r.area ~= area then print("\n" .. r.area); area = r.area end
    local text = #r.text > 100 and r.text:sub(1, 97) .. "..." or r.text
    print(string.format("  %-9s %s", r.id, text))
  end
  print("\n(the full texts: reports/requirements.tsv; a scenario names ids in covers = { ... })")
  return 0
end

return function(root, run_dir, strict, list)
  if list then return list_ids(root) end
  local f, err = io.open(run_dir .. "/results.json", "r")
  if not f then
    io.stderr:write("piclab coverage: ", err, "\n")
    return 2
  end
  local results = cjson.decode(f:read("a"))
  f:close()
  local list, byid = catalog.load(root)
  -- n/a is what the run's PICS says of a requirement, not what an n/a scenario covers: a
  -- mandatory id whose only scenarios were n/a (they also cover a conditional one) is untested.
  local pics, perr = picsmod.from_results(root, results.pics)
  if perr then
    io.stderr:write("piclab coverage: ", perr, "\n")
    return 2
  end
  local status, who = {}, {}
  local unknown = {}
  for _, s in ipairs(results.scenarios) do
    for _, id in ipairs(s.covers) do
      if not byid[id] then unknown[#unknown + 1] = id .. " (" .. s.name .. ")" end
      who[id] = who[id] or {}
      table.insert(who[id], s.name .. "=" .. s.verdict)
      local v = s.verdict
      if v == "fail" or v == "error" then status[id] = "failing"
      elseif v == "pass" and status[id] ~= "failing" then status[id] = "passing"
      elseif v == "inconc" and status[id] ~= "failing" then status[id] = "inconc"
      elseif v == "skip" and not status[id] then status[id] = "skipped" end
    end
  end
  local counts = { passing = 0, failing = 0, untested = 0, skipped = 0, inconc = 0, ["n/a"] = 0 }
  for _, r in ipairs(list) do
    if pics and picsmod.req_na(pics, r.id) then status[r.id] = "n/a" end
    local st = status[r.id] or "untested"
    counts[st] = counts[st] + 1
    print(string.format("%-9s %-9s %s", r.id, st, who[r.id] and table.concat(who[r.id], " ") or ""))
  end
  print(string.format("%d requirements: %d passing, %d failing, %d untested, %d skipped, %d inconc, %d n/a",
    #list, counts.passing, counts.failing, counts.untested, counts.skipped, counts.inconc, counts["n/a"]))
  for _, u in ipairs(unknown) do print("unknown requirement id named by a scenario: " .. u) end
  if strict and (counts.untested > 0 or counts.skipped > 0) then
    local gaps = {}
    for _, r in ipairs(list) do
      local st = status[r.id] or "untested"
      if st == "untested" or st == "skipped" then gaps[#gaps + 1] = r.id .. " (" .. st .. ")" end
    end
    print("coverage --strict: not proven by a passing scenario: " .. table.concat(gaps, ", "))
    return 1
  end
  return (counts.failing > 0 or #unknown > 0) and 1 or 0
end
