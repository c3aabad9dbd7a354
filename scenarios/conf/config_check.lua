-- CONF-006: `accessproxy -t` checks a configuration and exits non-zero naming each problem —
-- all of them at once, with the line they are on.
local files = require("files")
local read = files.read
return scenario {
  title  = "accessproxy -t passes the lab's config and names every problem of a broken one",
  covers = { "CONF-006", "TLS-006" },
  sut_kinds = { "accessproxy" },  -- reads or rewrites accessproxy.conf
  tags   = { "config" },
  run = function(lab)
    local rc, out = lab:sut_check()
    expect_eq(rc, 0, "accessproxy -t on the lab's own config (" .. out .. ")")

    local conf = read(lab.dir .. "/accessproxy.conf")
    local broken = conf
      :gsub("next_hop = [^\n]*", "next_hop = 127.0.0.9", 1)                   -- an IP as next hop
      :gsub("(\n%[external%][^%[]-\ncert = )[^\n]*", "%1/nonexistent/ap.crt", 1) -- a missing file
      :gsub("\n%[provider yahoo%]\nfqdn = [^\n]*", "\n[provider yahoo]\nfqdn = sip.aol.test", 1) -- duplicate FQDN
      .. "\n[global]\nfrobnicate = yes\n"                                       -- an unknown key
    rc, out = lab:sut_check(broken)
    log(out)
    expect(rc ~= 0, "accessproxy -t exits non-zero on a broken config")
    expect(out:find("next_hop", 1, true) and out:find("IP", 1, true), "the IP next hop named:\n" .. out)
    expect(out:find("/nonexistent/ap.crt", 1, true), "the missing certificate file named:\n" .. out)
    expect(out:find("sip.aol.test", 1, true) and (out:find("duplicate", 1, true) or out:find("unique", 1, true)
      or out:find("already", 1, true)), "the duplicate provider FQDN named:\n" .. out)
    expect(out:find("frobnicate", 1, true), "the unknown key named:\n" .. out)
    local lines = 0
    for l in out:gmatch("[^\n]+") do
      if l:match("%.conf:%d+:") then lines = lines + 1 end
    end
    expect(lines >= 4, "each problem on its own line with file:line, got " .. lines .. ":\n" .. out)
  end,
}
