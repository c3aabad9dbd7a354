-- catalog: reads the requirement catalog (reports/requirements.tsv: id, area, source, text) and,
-- run as a script with REQUIREMENTS.md as argument, regenerates that file from it.
local M = {}

function M.load(root)
  local list, byid = {}, {}
  local f = assert(io.open(root .. "/reports/requirements.tsv", "r"))
  for line in f:lines() do
    local id, area, source, text = line:match("^([^\t]+)\t([^\t]*)\t([^\t]*)\t(.*)$")
    if id and id ~= "id" then
      local r = { id = id, area = area, source = source, text = text }
      list[#list + 1] = r
      byid[id] = r
    end
  end
  f:close()
  return list, byid
end

-- "- PROV-001 The form asks ... (seed)" under "## PROV — title" headings.
function M.parse_markdown(text)
  local out, area = {}, ""
  for line in text:gmatch("[^\n]+") do
    local h = line:match("^## (.+)$")
    if h then area = h end
    local id, rest = line:match("^%- ([A-Z]+%-%d%d%d) (.+)$")
    if id then
      local body, source = rest:match("^(.-)%s*%(([^()]+)%)%s*$")
      out[#out + 1] = { id = id, area = area, source = source or "", text = body or rest }
    end
  end
  return out
end

if arg and arg[0] and arg[0]:match("catalog%.lua$") and arg[1] then
  local f = assert(io.open(arg[1], "r"))
  local reqs = M.parse_markdown(f:read("a"))
  f:close()
  local o = assert(io.open(arg[2] or "reports/requirements.tsv", "w"))
  o:write("id\tarea\tsource\ttext\n")
  for _, r in ipairs(reqs) do
    o:write(table.concat({ r.id, r.area, r.source, (r.text:gsub("\t", " ")) }, "\t"), "\n")
  end
  o:close()
  print(#reqs .. " requirements")
end

return M
