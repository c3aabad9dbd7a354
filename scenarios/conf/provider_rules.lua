-- CONF-003: an invalid provider row is refused with its reason; CONF-004: a default route to a
-- clearing house and an allowed public provider cannot be configured together.
return scenario {
  title  = "apctl refuses invalid provider rows and the default-route conflict, naming the rule",
  covers = { "CONF-003", "CONF-004" },
  tags   = { "conf" },
  run = function(lab)
    local bad = {
      { { "providers", "add", "aol", "--fqdn", "sip.other.test", "--domains", "other.test" },
        "CONF-003", "duplicate name", "is taken" },
      { { "providers", "add", "dup", "--fqdn", "sip.aol.test", "--domains", "dup.test" },
        "CONF-003", "duplicate edge FQDN", "is already provider" },
      { { "providers", "add", "wild", "--fqdn", "*.wild.test", "--domains", "wild.test" },
        "CONF-003", "wildcard FQDN", "is a wildcard" },
      { { "providers", "add", "ip", "--fqdn", "192.0.2.1", "--domains", "ip.test" },
        "CONF-003", "IP address as FQDN", "is an IP address" },
      { { "providers", "add", "ours", "--fqdn", "sip.ours.test", "--domains", "contoso.test" },
        "CONF-003", "one of our domains", "is one of our domains" },
      { { "providers", "add", "steal", "--fqdn", "sip.steal.test", "--domains", "aol.test" },
        "CONF-003", "another provider's domain", "is already served" },
      -- the lab allows aol, yahoo and msn: a default route now conflicts
      { { "settings", "set", "default_route", "ch.clearing.test" }, "CONF-004",
        "default route beside allowed public providers" },
    }
    for _, case in ipairs(bad) do
      local rc, out = lab:apctl(table.unpack(case[1]))
      expect_eq(rc, 1, "apctl " .. table.concat(case[1], " ") .. " refused (" .. case[3] .. ")")
      expect(out:find(case[2], 1, true), case[3] .. ": the refusal names " .. case[2] .. ", got: " .. out)
      -- and the rule that refused it, not another check that happened to fire
      expect(not case[4] or out:find(case[4], 1, true),
        case[3] .. ": the refusal says '" .. tostring(case[4]) .. "', got: " .. out)
    end
    -- nothing of it was applied: the table still has three rows
    local rc, out = lab:apctl("--json", "providers", "list")
    local n = 0
    for _ in out:gmatch('"name":') do n = n + 1 end
    expect_eq(n, 3, "provider rows after the refusals")
    -- with every public provider disallowed, the default route is accepted, and then allowing
    -- one is refused (CONF-004 both ways)
    for _, p in ipairs({ "aol", "yahoo", "msn" }) do
      rc, out = lab:apctl("providers", "disallow", p)
      expect_eq(rc, 0, "disallow " .. p .. " (" .. out .. ")")
    end
    rc, out = lab:apctl("settings", "set", "default_route", "ch.clearing.test")
    expect_eq(rc, 0, "default route with no public provider allowed (" .. out .. ")")
    rc, out = lab:apctl("providers", "allow", "aol")
    expect_eq(rc, 1, "allowing aol next to a default route refused")
    expect(out:find("CONF-004", 1, true), "the refusal names CONF-004, got: " .. out)
  end,
}
