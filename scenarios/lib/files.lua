-- files: whole-file reads and writes for scenarios that edit the SUT's files (its
-- configuration, a backup, a fixture). Binary-safe; an error names the path.
local M = {}

function M.read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

function M.write(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
end

return M
