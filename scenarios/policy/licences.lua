-- POL-004: apctl reports how many users are enabled for PIC: one monthly licence each.
return scenario {
  title  = "apctl licences counts the enabled users, and follows enable/disable",
  covers = { "POL-004", "CONF-005" },
  tags   = { "policy" },
  run = function(lab)
    local rc, out = lab:apctl("licences")
    expect_eq(rc, 0, "apctl licences")
    expect(out:find("4 users enabled for PIC: 4 monthly licences", 1, true),
      "alice, bob, carol and dave counted, got: " .. out)
    rc, out = lab:apctl("users", "enable", "eve@contoso.test")
    expect_eq(rc, 0, "apctl users enable eve (" .. out .. ")")
    rc, out = lab:apctl("licences")
    expect(out:find("5 users enabled", 1, true), "eve counted once enabled, got: " .. out)
    rc, out = lab:apctl("users", "disable", "eve@contoso.test", "dave@contoso.test")
    expect_eq(rc, 0, "apctl users disable eve dave (" .. out .. ")")
    rc, out = lab:apctl("licences")
    expect(out:find("3 users enabled for PIC: 3 monthly licences", 1, true), "got: " .. out)
  end,
}
