-- AUD-003 (the refusal half): with critical archiving, when the proxy cannot record a request
-- durably (its disk is full), federated traffic is refused with 503 and nothing is forwarded;
-- once space is back, traffic flows again. The proxy's database lives on a small disk of its
-- own (lab option state_disk_kb), which the scenario fills.
return scenario {
  title  = "Critical archiving on a full disk: 503 and nothing forwarded; flows again once space is back",
  covers = { "AUD-003" },
  tags   = { "audit", "workers" },
  lab    = { state_disk_kb = 4096 },
  timeout = 60,
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob = lab.provider("aol"):user("bob@aol.test")
    local rc, out = lab:apctl("settings", "set", "archive_critical", "yes")
    expect_eq(rc, 0, "apctl settings set archive_critical yes (" .. out .. ")")
    expect_eq(alice:send_message(bob, "before the disk fills"), 200, "MESSAGE with space on the disk")
    bob:expect_message{ contains = "before the disk fills" }

    -- fill the proxy's state disk
    local fill = lab.state_dir .. "/filler"
    local f = assert(io.open(fill, "wb"))
    local chunk = string.rep("\0", 65536)
    for _ = 1, 4096 do
      if not f:write(chunk) then break end
    end
    f:close()

    local st, why = alice:send_message(bob, "the disk is full")
    expect_eq(st, 503, "answer to a MESSAGE that cannot be recorded (" .. tostring(why) .. ")")
    lab:sleep(0.3)
    expect_eq(bob:inbox_count(), 0, "messages delivered although they could not be recorded")
    lab.capture:expect{ leg = "external", method = "MESSAGE", count = 1 }

    os.remove(fill)
    lab:sleep(0.2)
    expect_eq(alice:send_message(bob, "space is back"), 200, "MESSAGE once space is back")
    bob:expect_message{ contains = "space is back" }
  end,
}
