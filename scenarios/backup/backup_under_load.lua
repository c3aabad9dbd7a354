-- BAK-001: `apctl backup` captures all state consistently while the proxy runs, here while
-- MESSAGEs flow both ways (each one audited and archived as it passes) and configuration
-- changes are made around it. BAK-005: the backup restored onto an installation whose database
-- and configuration were wiped gives a proxy that starts and carries traffic, in the state of
-- the backup: its changes in force, the later ones gone, its archive readable and growing.

local function hex(t)
  return (t:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

-- audit ids and archive ids of an export (apctl export [FILE])
local function ids(export)
  local audit, archive, n = {}, {}, 0
  for line in export:gmatch("[^\n]+") do
    local id = line:match("^audit\tid=(%d+)\t")
    if id then audit[tonumber(id)] = line; n = n + 1 end
    local aid = line:match("^archive\taudit_id=(%d+)\t")
    if aid then archive[tonumber(aid)] = line end
  end
  return audit, archive, n
end

local function remove(path)
  os.remove(path) -- missing is fine
end

return scenario {
  title  = "Backup while MESSAGEs and changes flow, consistent; restored onto a wiped install the proxy starts and carries traffic in the backup's state",
  covers = { "BAK-001", "BAK-005" },
  tags   = { "backup", "load" },
  sut_kinds = { "accessproxy" },  -- deletes and restores accessproxy.conf and its database
  timeout = 90,
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local carol = lab.enterprise:user("carol@contoso.test")
    local eve = lab.enterprise:user("eve@contoso.test")
    local dave = lab.enterprise:user("dave@contoso.test")
    local bob = lab.provider("aol"):user("bob@aol.test")
    local pat = lab.provider("yahoo"):user("pat@yahoo.test")
    alice:allow(bob)
    carol:allow(pat)
    dave:allow(pat)
    local rc, out = lab:apctl("settings", "set", "archive", "on")
    expect_eq(rc, 0, "apctl settings set archive on (" .. out .. ")")
    local file = lab.dir .. "/under-load.backup"
    rc, out = lab:apctl("settings", "set", "archive_critical", "yes")
    expect_eq(rc, 0, "apctl settings set archive_critical yes (" .. out .. ")")

    -- a non-empty archive before the backup (durable once answered: critical archiving)
    local seeds = {}
    for i = 1, 3 do
      seeds[i] = "before the backup " .. i .. "-" .. math.random(100000, 999999)
      expect_eq(alice:send_message(bob, seeds[i]), 200, "MESSAGE " .. i .. " before the backup")
    end

    -- traffic both ways, several senders at once, from before the backup until after it
    local stop, acked = false, 0
    local function sender(from, to, tag)
      return function()
        local i = 0
        while not stop do
          i = i + 1
          local st = from:send_message(to, "during the backup " .. tag .. " " .. i)
          expect_eq(st, 200, "MESSAGE " .. tag .. " " .. i .. " during the backup")
          acked = acked + 1
        end
      end
    end
    local at, after_backup
    local function control()
      while acked < 20 do lab:sleep(0.005) end
      -- a change just before the backup; the backup in the background while MESSAGEs flow
      -- and another change is made at the same time; a change just after it
      rc, out = lab:apctl_start("users", "enable", "eve@contoso.test"):wait()
      expect_eq(rc, 0, "apctl users enable eve under load (" .. out .. ")")
      at = acked
      local backup = lab:apctl_start("backup", file)
      local during = lab:apctl_start("users", "enable", "frank@contoso.test")
      rc, out = backup:wait()
      expect_eq(rc, 0, "apctl backup under load (" .. out .. ")")
      after_backup = acked
      rc, out = during:wait()
      expect_eq(rc, 0, "apctl users enable frank while the backup runs (" .. out .. ")")
      rc, out = lab:apctl_start("users", "disable", "carol@contoso.test"):wait()
      expect_eq(rc, 0, "apctl users disable carol under load (" .. out .. ")")
      local mark = acked
      while acked < mark + 20 do lab:sleep(0.005) end
      stop = true
    end
    lab:parallel(control, sender(alice, bob, "a>b"), sender(bob, alice, "b>a"),
      sender(dave, pat, "d>p"), sender(pat, dave, "p>d"))
    log(string.format("%d MESSAGEs acknowledged: %d when the backup began, %d when it ended",
      acked, at, after_backup))
    expect(after_backup > at, "MESSAGEs acknowledged while the backup ran")

    -- BAK-001: the backup verifies and is one consistent moment of the state
    rc, out = lab:apctl("verify", file)
    expect_eq(rc, 0, "apctl verify of the backup taken under load (" .. out .. ")")
    local _, bexport = lab:apctl("export", file)
    local _, live = lab:apctl("export")
    local baudit, barchive, nb = ids(bexport)
    local laudit, _, nl = ids(live)
    log(string.format("audit records: %d in the backup, %d live after the floods", nb, nl))
    expect(nb >= 3 and nb < nl, string.format(
      "the backup holds some of the audit, not what came after it: %d of %d records", nb, nl))
    for id = 1, nb do
      expect(baudit[id], "audit record " .. id .. " in the backup (its records are 1.." .. nb .. " without a hole)")
      expect_eq(baudit[id], laudit[id], "audit record " .. id .. " the same in the backup and live")
    end
    for aid in pairs(barchive) do
      expect(baudit[aid], "the backup's archive row " .. aid .. " has its audit record")
    end
    for _, s in ipairs(seeds) do
      expect(bexport:find(hex(s), 1, true), "the archived body '" .. s .. "' in the backup")
    end
    expect(bexport:find("aor='eve@contoso.test'[^\n]*pic_enabled=1"), "eve enabled in the backup (the change before it)")
    expect(bexport:find("aor='carol@contoso.test'[^\n]*pic_enabled=1"), "carol still enabled in the backup (the change after it is not)")

    -- BAK-005: a fresh install: the proxy stopped, its database and configuration gone,
    -- everything brought back from the backup alone, then started
    lab.sut:stop()
    for _, suffix in ipairs({ "", "-wal", "-shm" }) do remove(lab.dir .. "/state.db" .. suffix) end
    remove(lab.dir .. "/accessproxy.conf")
    expect(not io.open(lab.dir .. "/accessproxy.conf", "r"), "the configuration is gone before the restore")
    rc, out = lab:apctl("--db", lab.dir .. "/state.db", "restore", file)
    log("restore onto the wiped install: " .. out)
    expect(out:find("restored", 1, true), "apctl restore onto the wiped install (" .. out .. ")")
    expect(io.open(lab.dir .. "/accessproxy.conf", "r"), "the configuration restored from the backup")
    lab.sut:start()
    local _, restored = lab:apctl("export")
    expect(restored == bexport, "the restored install's state equals the backup's export")

    -- traffic through the restored proxy, in the backup's state
    for _, p in ipairs({ "aol", "yahoo", "msn" }) do
      local far = lab.provider(p):user("sam@" .. p .. ".test")
      alice:allow(far)
      expect_eq(alice:send_message(far, "restored to " .. p), 200, "MESSAGE to " .. p .. " through the restored proxy")
      far:expect_message{ from = alice, contains = "restored to " .. p }
      expect_eq(far:send_message(alice, "restored from " .. p), 200, "MESSAGE from " .. p .. " through the restored proxy")
    end
    expect_eq(eve:send_message(pat, "eve restored"), 200, "eve (enabled before the backup) through the restored proxy")
    expect_eq(carol:send_message(pat, "carol restored"), 200, "carol (disabled only after the backup) through the restored proxy")
    -- the restored archive: its bodies readable, and it grows with new traffic
    rc, out = lab:apctl("archive", "list", "--user", "alice@contoso.test", "--limit", "0")
    expect_eq(rc, 0, "apctl archive list on the restored install")
    for _, s in ipairs(seeds) do
      expect(out:find(s, 1, true), "the archived body '" .. s .. "' readable after the restore")
    end
    expect(out:find("restored to aol", 1, true), "a MESSAGE through the restored proxy archived")
  end,
}
