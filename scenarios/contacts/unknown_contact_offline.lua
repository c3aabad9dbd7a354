-- A contact that does not exist: no error to the client, shown offline, on every provider
-- (AOL-like answers 202 and leaves it pending, Yahoo!-like a closed NOTIFY, MSN-like 404).
return scenario {
  title  = "adding a public contact that does not exist shows it offline",
  covers = { "CONT-004" },
  lab    = { providers = { aol = { allow = true }, yahoo = { allow = true },
                           msn = { allow = true } } },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    for _, p in ipairs{ "aol", "yahoo", "msn" } do
      local ghost = "ghost@" .. p .. ".test"
      alice:add_contact(ghost)
      lab:sleep(0.5)
      local state, info = alice:presence_of(ghost)
      expect_eq(state, "offline", "presence of " .. ghost)
      log(p .. ": " .. info.subscription .. " " .. info.reason)
    end
  end,
}
