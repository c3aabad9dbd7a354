-- merge: combines the run folders of sharded runs (`piclab run --shard K/N` on several CI
-- machines) into one run folder: every scenario's folder copied in, one results.json,
-- junit.xml and report written by the same renderer as a run, so coverage is computed over
-- the union. Returns function(root, out, runs) -> exit code (0 merged, 2 bad input).
local cjson = require("cjson")

local function fail(fmt, ...)
  io.stderr:write("piclab merge: ", string.format(fmt, ...), "\n")
  return 2
end

local function read_results(dir)
  local f, err = io.open(dir .. "/results.json", "r")
  if not f then return nil, err end
  local text = f:read("a")
  f:close()
  local ok, res = pcall(cjson.decode, text)
  if not ok or type(res) ~= "table" or type(res.scenarios) ~= "table" then
    return nil, dir .. "/results.json is not a piclab results file"
  end
  if type(res.format) ~= "string" or not res.format:match("^piclab%-results/") then
    return nil, dir .. "/results.json: unknown format " .. tostring(res.format)
  end
  return res
end

local function copy_file(from, to)
  local i = io.open(from, "rb")
  if not i then return true end -- a scenario that ended before its lab made this file
  local o, err = io.open(to, "wb")
  if not o then i:close() return nil, err end
  while true do
    local chunk = i:read(1 << 20)
    if not chunk then break end
    o:write(chunk)
  end
  i:close()
  return o:close()
end

-- The files a scenario folder holds; listed by the shell so that nothing is left out.
local function files_of(dir)
  local list = {}
  local p = io.popen("ls -A '" .. dir:gsub("'", "'\\''") .. "' 2>/dev/null")
  for name in p:lines() do list[#list + 1] = name end
  p:close()
  return list
end

local function join(t)
  return type(t) == "table" and table.concat(t, " ") or tostring(t or "")
end

return function(root, out, runs)
  local run = { out = out, root = root, seconds = 0, scenarios = {}, merged_from = {} }
  local seen, seeds = {}, {}
  for _, dir in ipairs(runs) do
    local res, err = read_results(dir)
    if not res then return fail("%s", err) end
    run.merged_from[#run.merged_from + 1] = dir
    run.seconds = math.max(run.seconds, tonumber(res.seconds) or 0)
    seeds[tostring(res.seed)] = true
    run.seed = run.seed or res.seed
    if res.identity and not run.identity then
      run.identity = res.identity
      run.identity.run_id = out:match("([^/]+)$") or out
      run.identity.merged_from = runs
    end
    run.pixit = run.pixit or res.pixit
    run.pics = run.pics or (res.pics and res.pics.file)
    for _, s in ipairs(res.scenarios) do
      if seen[s.name] then
        return fail("scenario %s is in both %s and %s: merge shards of one run, each once",
          s.name, seen[s.name], dir)
      end
      seen[s.name] = dir
      local src, dst = dir .. "/" .. (s.dir or ""), out .. "/" .. (s.dir or "")
      -- a scenario that did not run (n/a by the PICS) has no folder
      if s.dir and s.dir ~= "" then
        os.execute("mkdir -p '" .. dst:gsub("'", "'\\''") .. "'")
        for _, name in ipairs(files_of(src)) do
          local ok, cerr = copy_file(src .. "/" .. name, dst .. "/" .. name)
          if not ok then return fail("copying %s/%s: %s", src, name, tostring(cerr)) end
        end
      end
      local entry = {}
      for k, v in pairs(s) do entry[k] = v end
      entry.covers, entry.tags, entry.dir = join(s.covers), join(s.tags), dst
      entry.file, entry.where = s.file or "", s.where or ""
      entry.reason, entry.waived = s.reason or "", s.waived or ""
      entry.seconds, entry.packets = tonumber(s.seconds) or 0, tonumber(s.packets) or 0
      run.scenarios[#run.scenarios + 1] = entry
    end
  end
  local n = 0
  for _ in pairs(seeds) do n = n + 1 end
  if n > 1 then
    io.stderr:write("piclab merge: warning: the shards ran with different seeds\n")
  end
  table.sort(run.scenarios, function(a, b) return a.name < b.name end)
  require("render")(run)
  local counts = { pass = 0, fail = 0, error = 0, skip = 0 }
  for _, s in ipairs(run.scenarios) do counts[s.verdict] = (counts[s.verdict] or 0) + 1 end
  print(string.format("merged %d runs, %d scenarios: %s", #runs, #run.scenarios, out))
  print(string.format("%d passed, %d failed", counts.pass, counts.fail + counts.error))
  return (counts.fail + counts.error) > 0 and 1 or 0
end
