-- CONF-001: a fresh install has the AOL, Yahoo! and MSN rows with their edge addresses, none
-- allowed. The lab's database was seeded from a config that allows them, so the scenario
-- writes a fresh install's config beside it: the lab's, without its [provider] sections, with
-- its own database and a control socket nobody listens on (the running proxy is not touched).
return scenario {
  title  = "Default provider rows: aol, yahoo and msn with their edges, all not allowed",
  covers = { "CONF-001" },
  sut_kinds = { "accessproxy" },  -- reads or rewrites accessproxy.conf
  tags   = { "conf" },
  run = function(lab)
    local f = assert(io.open(lab.dir .. "/accessproxy.conf", "rb"))
    local text = f:read("a")
    f:close()
    local tag = tostring(math.random(100000, 999999))
    local db = lab.dir .. "/fresh-" .. tag .. ".db"
    text = text:gsub("\n%[provider.*$", "\n")
    text = text:gsub("\ndatabase = [^\n]*", "\ndatabase = " .. db)
    text = text:gsub("\ncontrol_socket = ([^\n]*)", "\ncontrol_socket = %1.none-" .. tag)
    expect(not text:find("[provider", 1, true), "no provider section in the fresh config")
    local cfg = lab.dir .. "/fresh-" .. tag .. ".conf"
    f = assert(io.open(cfg, "wb"))
    f:write(text)
    f:close()
    local rc, out = lab:apctl("-c", cfg, "--json", "providers", "list")
    expect_eq(rc, 0, "apctl providers list on a fresh install (" .. out .. ")")
    local want = { aol = "sip.aol.test", yahoo = "sip.yahoo.test", msn = "sip.msn.test" }
    local n = 0
    for obj in out:gmatch("{[^{}]*}") do
      local name = obj:match('"name":"([^"]+)"')
      n = n + 1
      expect(want[name], "only the default providers, found " .. tostring(name))
      expect(obj:find('"fqdn":"' .. want[name] .. '"', 1, true), name .. "'s edge FQDN: " .. obj)
      expect(obj:find('"allowed":false', 1, true), name .. " not allowed by default: " .. obj)
    end
    expect_eq(n, 3, "default provider rows")
  end,
}
