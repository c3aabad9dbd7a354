-- util: small helpers the report renderers share.
local M = {}

function M.esc(s)
  return (tostring(s or ""):gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;")
    :gsub('"', "&quot;"))
end

-- XML text and attribute values: control characters XML 1.0 forbids become '?'.
function M.xml(s)
  return (tostring(s or ""):gsub("[%z\1-\8\11\12\14-\31]", "?")
    :gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;"):gsub('"', "&quot;"))
end

function M.split(s)
  local t = {}
  for w in (s or ""):gmatch("%S+") do t[#t + 1] = w end
  return t
end

function M.relpath(path, base)
  if path:sub(1, #base + 1) == base .. "/" then return path:sub(#base + 2) end
  if path == base then return "" end
  return path
end

function M.write(path, text)
  local f = assert(io.open(path .. ".tmp", "w"))
  f:write(text)
  f:close()
  assert(os.rename(path .. ".tmp", path))
end

function M.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local t = f:read("a")
  f:close()
  return t
end

function M.iso(t)
  return t and t > 0 and os.date("!%Y-%m-%dT%H:%M:%SZ", t) or ""
end

-- The scenario page's file name (relative to the run folder): "smoke/x" -> "pages/smoke.x.html".
function M.page(name)
  return "pages/" .. name:gsub("/", ".") .. ".html"
end

-- Flaky: mixed verdicts over --repeat runs.
function M.flaky(s)
  return (s.runs or 1) > 1 and (s.runs_passed or 0) > 0 and s.runs_passed < s.runs
end

-- The verdict as shown: flaky overrides pass/fail (it is never a pass).
function M.shown(s)
  return M.flaky(s) and "flaky" or s.verdict
end

function M.css_class(v)
  return (v:gsub("/", ""):gsub("[^%w-]", "_"))
end

return M
