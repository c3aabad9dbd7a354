-- IM-004 (the provider's half): a MESSAGE over MSN's own limit gets MSN's 413, relayed by the proxy, and
-- nothing else suffers. The proxy's own limit is judged in im/proxy_size_limit.lua.
return scenario {
  title  = "oversized MESSAGE refused with 413 (MSN-like limit 1664 bytes)",
  covers = { "IM-004" },
  tags   = { "workers" },
  lab    = { providers = { aol = { allow = true }, yahoo = { allow = true },
                           msn = { allow = true } } },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local dan   = lab.provider("msn"):user("dan@msn.test")
    expect_eq(alice:send_message(dan, string.rep("x", 1665)), 413, "response to 1665 bytes")
    expect_eq(alice:send_message(dan, "small"), 200, "response to a small MESSAGE after")
    dan:expect_message{ contains = "small" }
  end,
}
