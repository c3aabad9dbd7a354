-- pics: the Protocol Implementation Conformance Statement of the system under test (ETSI TS
-- 102 027 style). reports/pics/items.tsv defines the capabilities (item, m/o status, text);
-- reports/pics/<kind>.pics answers yes or no for one SUT kind; reports/requirements-status.tsv
-- gives each requirement m, o or c and the item it depends on. A requirement whose item the SUT
-- answers "no" is n/a, and so is every scenario covering it: such scenarios do not run.
local M = {}

local function lines(path)
  local f, err = io.open(path, "r")
  if not f then return nil, err end
  local t, n = {}, 0
  for line in f:lines() do
    n = n + 1
    if not line:match("^%s*#") and line:match("%S") then t[#t + 1] = { n = n, text = line } end
  end
  f:close()
  return t
end

local function fields(s)
  local t = {}
  for f in (s .. "\t"):gmatch("([^\t]*)\t") do t[#t + 1] = f end
  return t
end

-- The capabilities a SUT may claim (reports/pics/items.tsv) into p.items and p.order.
local function load_items(root, p)
  local items_path = root .. "/reports/pics/items.tsv"
  local ls, err = lines(items_path)
  if not ls then return nil, "PICS items: " .. err end
  for _, l in ipairs(ls) do
    local f = fields(l.text)
    if f[1] ~= "item" then
      if #f < 3 or (f[2] ~= "m" and f[2] ~= "o") then
        return nil, string.format("%s:%d: want ITEM<TAB>m|o<TAB>text", items_path, l.n)
      end
      p.items[f[1]] = { id = f[1], status = f[2], text = f[3] }
      p.order[#p.order + 1] = f[1]
    end
  end
  return p
end

local load_status

-- Loads items, the SUT's answers and the requirement statuses. Returns the pics object, or nil
-- and a message naming the file and line at fault.
function M.load(root, pics_path)
  local p = { path = pics_path, items = {}, order = {}, answers = {}, notes = {}, req = {},
              sut = "?" }
  local ok, err = load_items(root, p)
  if not ok then return nil, err end
  local ls
  ls, err = lines(pics_path)
  if not ls then return nil, "PICS file: " .. err end
  for _, l in ipairs(ls) do
    -- ITEM yes|no [note], separated by tabs or spaces
    local item, answer, note = l.text:match("^%s*(%S+)%s*(%S*)%s*(.-)%s*$")
    local f = { item, answer ~= "" and answer or nil, note }
    if f[1] == "sut" then
      p.sut = f[2] or "?"
    elseif not p.items[f[1]] then
      return nil, string.format("%s:%d: unknown PICS item '%s' (items are in %s)", pics_path,
        l.n, f[1], root .. "/reports/pics/items.tsv")
    elseif f[2] ~= "yes" and f[2] ~= "no" then
      return nil, string.format("%s:%d: %s must be answered yes or no, not '%s'", pics_path, l.n,
        f[1], tostring(f[2]))
    else
      p.answers[f[1]] = f[2] == "yes"
      p.notes[f[1]] = f[3] or ""
    end
  end
  for _, id in ipairs(p.order) do
    if p.answers[id] == nil then
      return nil, string.format("%s: PICS item %s is not answered (yes or no)", pics_path, id)
    end
  end
  return load_status(root, p)
end

-- The m/o/c status and PICS condition of each requirement (reports/requirements-status.tsv).
load_status = function(root, p)
  local st_path = root .. "/reports/requirements-status.tsv"
  local ls, err = lines(st_path)
  if not ls then return nil, "requirement status: " .. err end
  for _, l in ipairs(ls) do
    local f = fields(l.text)
    if f[1] ~= "id" then
      local st, cond = f[2], f[3] ~= "" and f[3] or nil
      if st ~= "m" and st ~= "o" and st ~= "c" then
        return nil, string.format("%s:%d: %s: status must be m, o or c, not '%s'", st_path, l.n,
          f[1], tostring(st))
      end
      if st == "c" and not cond then
        return nil, string.format("%s:%d: %s is conditional (c) but names no PICS item", st_path,
          l.n, f[1])
      end
      if cond and not p.items[cond] then
        return nil, string.format("%s:%d: %s depends on unknown PICS item '%s'", st_path, l.n,
          f[1], cond)
      end
      p.req[f[1]] = { status = st, cond = cond }
    end
  end
  return p
end

-- The PICS a run answered, as its results.json recorded it (pics.items: item, supported), with
-- the item and requirement definitions of ROOT: what decides which requirements were n/a in
-- that run. nil when the run recorded no PICS; nil and a message when the definitions are bad.
function M.from_results(root, recorded)
  if type(recorded) ~= "table" or type(recorded.items) ~= "table" then return nil end
  local p = { path = recorded.file or "", items = {}, order = {}, answers = {}, notes = {},
              req = {}, sut = recorded.sut or "?" }
  local ok, err = load_items(root, p)
  if not ok then return nil, err end
  for _, it in ipairs(recorded.items) do
    if type(it) == "table" and it.item then p.answers[it.item] = it.supported == true end
  end
  return load_status(root, p)
end

-- "m", "o" or "c:ITEM" for display.
function M.status(p, id)
  local r = p.req[id]
  if not r then return "m" end
  return r.status .. (r.cond and (":" .. r.cond) or "")
end

-- nil if the requirement applies to this SUT, else why it is n/a.
function M.req_na(p, id)
  local r = p.req[id]
  if r and r.cond and p.answers[r.cond] == false then
    return string.format("%s is %s on PICS item %s, which %s does not claim", id,
      r.status == "c" and "conditional" or "optional", r.cond, p.sut)
  end
  return nil
end

-- covers: space-separated requirement ids. nil if the scenario applies, else why it is n/a.
function M.scenario_na(p, covers)
  for id in (covers or ""):gmatch("%S+") do
    local why = M.req_na(p, id)
    if why then return why end
  end
  return nil
end

-- true if every mandatory PICS item is answered yes; plus the list of those missing.
function M.mandatory_ok(p)
  local missing = {}
  for _, id in ipairs(p.order) do
    if p.items[id].status == "m" and not p.answers[id] then missing[#missing + 1] = id end
  end
  return #missing == 0, missing
end

-- A plain table for results.json.
function M.summary(p)
  local ok, missing = M.mandatory_ok(p)
  local items = {}
  for _, id in ipairs(p.order) do
    local it = p.items[id]
    items[#items + 1] = { item = id, status = it.status, capability = it.text,
                          supported = p.answers[id], note = p.notes[id] }
  end
  return { file = p.path, sut = p.sut, items = items, mandatory_implemented = ok,
           mandatory_missing = missing }
end

return M
