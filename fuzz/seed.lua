-- seed.lua: writes seeds for fuzz/corpus/{sip,proxy} from the request grammar of
-- scenarios/lib/protos.lua: one case per element (the element's first anomalies), so every
-- part of a request starts out damaged once. Run from the project root: lua5.4 fuzz/seed.lua
package.path = "scenarios/lib/?.lua;" .. package.path
local protos = require("protos")
local g = protos.new{ from = "bob@aol.test", to = "alice@contoso.test", via_host = "sip.aol.test" }
local na = #protos.ANOMALIES
local picks = { 2, 40, 60, 80, 100, 130 } -- a number, format, overflow, control, 8-bit, delimiter
local n = 0
for e = 1, #protos.ELEMENTS do
  for _, a in ipairs(picks) do
    local c = g:case((e - 1) * na + math.min(a, na))
    if #c.text <= 4096 then
      local name = string.format("protos-%04d", c.n)
      local f = assert(io.open("fuzz/corpus/sip/" .. name, "wb"))
      f:write(c.text)
      f:close()
      -- proxy: first byte 0x31 = external edge, CN sip.aol.test, answered 200
      f = assert(io.open("fuzz/corpus/proxy/" .. name, "wb"))
      f:write("\x31", c.text)
      f:close()
      n = n + 1
    end
  end
end
print("seed.lua: " .. n .. " seeds each in fuzz/corpus/sip and fuzz/corpus/proxy")
