-- BAK-001..004: a backup taken while the proxy runs verifies; damaged, truncated and
-- other-version copies are refused by verify and restore with the state untouched; the good
-- one restores, its export equals the backup's, and PIC round trips work after the reload.
-- replaces the first occurrence of plain text a by b (same length) in data
local files = require("files")
local read = files.read
local write = files.write
local function patch(data, a, b)
  local i = data:find(a, 1, true)
  expect(i, "'" .. a .. "' found in the backup file")
  return data:sub(1, i - 1) .. b .. data:sub(i + #a)
end

return scenario {
  title  = "Hot backup, verify, refused bad copies, atomic restore, equal export, round trips after",
  covers = { "BAK-001", "BAK-002", "BAK-003", "BAK-004", "BAK-005" },
  sut_kinds = { "accessproxy" },  -- reads or rewrites accessproxy.conf
  tags   = { "backup" },
  timeout = 60,
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob = lab.provider("aol"):user("bob@aol.test")
    expect_eq(alice:send_message(bob, "before the backup"), 200, "MESSAGE before the backup")
    bob:expect_message{ from = alice }
    -- the audit record is written by the proxy's writer thread: wait until it is on record
    local recorded = false
    for _ = 1, 50 do
      local _, a = lab:apctl("audit", "--user", "alice@contoso.test")
      if a:find("forwarded", 1, true) then recorded = true break end
      lab:sleep(0.1)
    end
    expect(recorded, "alice's MESSAGE on record before the backup")

    local file = lab.dir .. "/state.backup"
    local rc, out = lab:apctl("backup", file)
    expect_eq(rc, 0, "apctl backup while the proxy runs (" .. out .. ")")
    rc, out = lab:apctl("verify", file)
    expect_eq(rc, 0, "apctl verify of the fresh backup (" .. out .. ")")
    local _, exported = lab:apctl("export", file)
    expect(exported:find("users\t", 1, true) and exported:find("audit\t", 1, true) and
      exported:find("providers\t", 1, true), "the backup's export has users, audit and providers")
    expect(exported:find("alice@contoso.test", 1, true), "the backup holds alice's audit record")

    -- state changes after the backup: what a restore must undo
    rc, out = lab:apctl("users", "disable", "carol@contoso.test")
    expect_eq(rc, 0, "apctl users disable carol (" .. out .. ")")
    local _, changed = lab:apctl("export")
    expect(changed ~= exported, "the live export differs from the backup's after a change")

    local data = read(file)
    local bad = {
      { name = "truncated", data = data:sub(1, #data // 2), why = "truncated" },
      { name = "config byte changed", data = patch(data, "[global]", "[glTbal]"), why = "checksum" },
      { name = "other version", data = patch(data, "format_version1", "format_version9"),
        why = "version 9" },
    }
    for _, b in ipairs(bad) do
      local path = lab.dir .. "/bad-" .. b.name:gsub(" ", "-") .. ".backup"
      write(path, b.data)
      rc, out = lab:apctl("verify", path)
      expect_eq(rc, 1, "apctl verify of the " .. b.name .. " copy")
      expect(out:find(b.why, 1, true), b.name .. ": verify names '" .. b.why .. "', got: " .. out)
      rc, out = lab:apctl("restore", path)
      expect_eq(rc, 1, "apctl restore of the " .. b.name .. " copy")
      expect(out:find("untouched", 1, true), b.name .. ": restore says the state is untouched: " .. out)
      local _, now = lab:apctl("export")
      expect(now == changed, b.name .. ": the state is as it was after the refused restore")
    end

    rc, out = lab:apctl("restore", file)
    expect_eq(rc, 0, "apctl restore of the good backup (" .. out .. ")")
    local _, restored = lab:apctl("export")
    expect(restored == exported, "BAK-004: the export after the restore equals the backup's")

    -- BAK-005 (state part): restored onto a fresh install under another root, the state
    -- exports the same and the config, certificates and keys are there
    local root = lab.dir .. "/fresh"
    rc, out = lab:apctl("restore", file, "--to", root)
    expect_eq(rc, 0, "apctl restore --to a fresh root (" .. out .. ")")
    local _, fresh = lab:apctl("--db", root .. lab.dir .. "/state.db", "export")
    expect(fresh == exported, "the fresh install's export equals the backup's")
    local conf = io.open(root .. lab.dir .. "/accessproxy.conf", "rb")
    expect(conf, "the config restored under the fresh root")
    if conf then
      local key = (conf:read("a"):match("\nkey = ([^\n]+)") or "")
      conf:close()
      local kf = io.open(root .. key, "rb")
      expect(kf, "the key " .. key .. " restored under the fresh root")
      if kf then kf:close() end
    end

    rc, out = lab:apctl("reload")
    expect_eq(rc, 0, "apctl reload after the restore (" .. out .. ")")
    for _, p in ipairs({ "aol", "yahoo", "msn" }) do
      local far = lab.provider(p):user("pat@" .. p .. ".test")
      alice:allow(far) -- TRUST-007: her client takes unverified IM from allowed senders only
      expect_eq(alice:send_message(far, "after the restore"), 200, "MESSAGE to " .. p .. " after the restore")
      far:expect_message{ from = alice }
      expect_eq(far:send_message(alice, "back from " .. p), 200, "MESSAGE from " .. p .. " after the restore")
      alice:expect_message{ contains = "back from " .. p }
    end
  end,
}
