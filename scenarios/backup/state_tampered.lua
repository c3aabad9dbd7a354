-- BAK-002 / BAK-003: a backup whose state was changed after it was written (one archived
-- message body edited in place: the file stays a valid database, no file checksum covers it)
-- fails `apctl verify` on its state checksum, and `apctl restore` refuses it.
local files = require("files")
local read = files.read
local write = files.write
return scenario {
  title  = "A backup with its state edited in place fails verify (state checksum) and restore",
  covers = { "BAK-002", "BAK-003" },
  tags   = { "backup" },
  timeout = 60,
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob = lab.provider("aol"):user("bob@aol.test")
    local rc, out = lab:apctl("settings", "set", "archive", "on")
    expect_eq(rc, 0, "apctl settings set archive on (" .. out .. ")")
    local canary = string.format("canary-%06d", math.random(0, 999999))
    expect_eq(alice:send_message(bob, canary), 200, "archived MESSAGE")
    local file = lab.dir .. "/state.backup"
    local data
    for _ = 1, 50 do  -- the writer thread archives it shortly after
      rc, out = lab:apctl("backup", file)
      expect_eq(rc, 0, "apctl backup (" .. out .. ")")
      data = read(file)
      if data:find(canary, 1, true) then break end
      lab:sleep(0.1)
    end
    expect(data:find(canary, 1, true), "the archived body " .. canary .. " is in the backup")
    rc, out = lab:apctl("verify", file)
    expect_eq(rc, 0, "apctl verify of the untouched backup (" .. out .. ")")
    local edited, at = data, 1
    while true do  -- every copy of the body (plain search: no patterns)
      local i, j = edited:find(canary, at, true)
      if not i then break end
      edited = edited:sub(1, i - 1) .. "CANARY" .. edited:sub(i + 6)
      at = j + 1
    end
    expect(edited ~= data and #edited == #data, "the copy differs in the body only")
    local path = lab.dir .. "/edited.backup"
    write(path, edited)
    rc, out = lab:apctl("verify", path)
    expect_eq(rc, 1, "apctl verify of the copy with an edited archived body")
    expect(out:find("state checksum", 1, true), "verify names the state checksum, got: " .. out)
    rc, out = lab:apctl("restore", path)
    expect_eq(rc, 1, "apctl restore of the edited copy")
    expect(out:find("untouched", 1, true), "restore says the state is untouched: " .. out)
  end,
}
