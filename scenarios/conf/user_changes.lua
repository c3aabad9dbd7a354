-- CONF-005: the administrator chooses which users may use PIC, not which providers each user may
-- reach: once eve is enabled she reaches every allowed provider, and each one reaches her.
-- CONF-007 (user half): each change takes effect on the next message, without a restart.
-- Every change is backed by traffic: enable, send, disable, send, enable again, send.
local function both_ways(lab, eve, fars, want_out, want_in, when)
  for _, far in ipairs(fars) do
    local st = eve:send_message(far, "eve " .. when)
    expect_eq(st, want_out, "eve -> " .. far.aor .. " " .. when)
    if want_out == 200 then far:expect_message{ from = eve, contains = "eve " .. when } end
    st = far:send_message(eve, far.aor .. " " .. when)
    expect_eq(st, want_in, far.aor .. " -> eve " .. when)
    if want_in == 200 then eve:expect_message{ from = far, contains = far.aor .. " " .. when } end
  end
end

return scenario {
  title  = "eve enabled, disabled, enabled again with apctl: each change seen on the next message to and from every provider, same process",
  covers = { "CONF-005", "CONF-007" },
  tags   = { "conf", "policy" },
  timeout = 60,
  run = function(lab)
    local eve = lab.enterprise:user("eve@contoso.test")
    local fars = {}
    for _, p in ipairs({ "aol", "yahoo", "msn" }) do
      local far = lab.provider(p):user("pat@" .. p .. ".test")
      eve:allow(far) -- TRUST-007: her client takes unverified IM from allowed senders only
      fars[#fars + 1] = far
    end
    local pid = lab.sut:pid()
    local function crossed(what)
      return #lab.capture:sip{ leg = "external", method = "MESSAGE", from = "eve@contoso.test" },
             #lab.capture:sip{ leg = "internal", method = "MESSAGE", to = "eve@contoso.test" }, what
    end

    -- not enabled: refused both ways, nothing crosses
    both_ways(lab, eve, fars, 403, 403, "before she is enabled")
    local out0, in0 = crossed()
    expect_eq(out0, 0, "eve's MESSAGEs on the external leg while she is not enabled")
    expect_eq(in0, 0, "MESSAGEs to eve on the internal leg while she is not enabled")

    -- enabled: one switch, no per-provider choice, every provider both ways
    local rc, out = lab:apctl("users", "enable", "eve@contoso.test")
    expect_eq(rc, 0, "apctl users enable eve (" .. out .. ")")
    if lab.sut_kind == "accessproxy" then -- apctl's own report; other edges say it their way
      expect(out:find("proxy reloaded: ok", 1, true), "the running proxy reloaded: " .. out)
    end
    both_ways(lab, eve, fars, 200, 200, "once enabled")
    local out1, in1 = crossed()
    expect_eq(out1, #fars, "eve's MESSAGEs on the external leg once enabled")
    expect_eq(in1, #fars, "MESSAGEs to eve on the internal leg once enabled")

    -- disabled again: refused at once, nothing more crosses
    rc, out = lab:apctl("users", "disable", "eve@contoso.test")
    expect_eq(rc, 0, "apctl users disable eve (" .. out .. ")")
    both_ways(lab, eve, fars, 403, 403, "once disabled")
    local out2, in2 = crossed()
    expect_eq(out2, out1, "eve's MESSAGEs on the external leg after she was disabled")
    expect_eq(in2, in1, "MESSAGEs to eve on the internal leg after she was disabled")

    -- and enabled once more: a change is not a one-way latch
    rc, out = lab:apctl("users", "enable", "eve@contoso.test")
    expect_eq(rc, 0, "apctl users enable eve again (" .. out .. ")")
    both_ways(lab, eve, fars, 200, 200, "enabled again")
    expect_eq(lab.sut:pid(), pid, "the same accessproxy process throughout")

    -- the choice is per user only: apctl has no per-user provider list to set
    rc, out = lab:apctl("users", "enable", "eve@contoso.test", "--provider", "aol")
    expect(rc ~= 0, "apctl refuses a per-user provider choice, got rc " .. rc .. ": " .. out)
  end,
}
