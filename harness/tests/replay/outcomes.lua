-- Prints one line per replayed transaction of a replay's results.json:
-- "<method> reached=<yes|no> final=<status> <verdict>", for the shell tests to compare.
local cjson = require("cjson")
local f = assert(io.open(arg[1] .. "/results.json"))
local r = cjson.decode(f:read("a"))
f:close()
for _, g in ipairs(r.groups) do
  for _, t in ipairs(g.transactions) do
    print(string.format("%s reached=%s final=%d %s", t.name:match("^(%S+)"),
      t.replayed_reached and "yes" or "no", math.tointeger(t.replayed_final) or 0, t.verdict))
  end
end
