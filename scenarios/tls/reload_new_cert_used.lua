-- TLS-007: a reload really puts the new certificate to use: the next connection the proxy
-- opens presents it. Here the new external leaf lacks clientAuth, which the AOL-like provider
-- refuses (TLS-004): a MESSAGE towards AOL fails after that reload and works again after the
-- good leaf is reloaded. A proxy that kept its old certificate would get 200 both times.
local function set_external_cert(lab, cert, key)
  local f = assert(io.open(lab.dir .. "/accessproxy.conf", "r"))
  local conf = f:read("a")
  f:close()
  local section = conf:match("%[external%].-\n\n")
  expect(section, "an [external] section in the generated config")
  local new = section:gsub("\ncert = [^\n]*", "\ncert = " .. cert):gsub("\nkey = [^\n]*", "\nkey = " .. key)
  local start, stop = conf:find(section, 1, true)
  f = assert(io.open(lab.dir .. "/accessproxy.conf", "w"))
  f:write(conf:sub(1, start - 1) .. new .. conf:sub(stop + 1))
  f:close()
  local answer = lab.sut:ctl("reload")
  expect(answer and answer:match("^ok"), "the reload is accepted (ok...), got " .. tostring(answer))
  return section:match("\ncert = ([^\n]*)"), section:match("\nkey = ([^\n]*)")
end

return scenario {
  title  = "After a certificate reload, new connections present the new certificate",
  covers = { "TLS-007" },
  tags   = { "tls", "reload", "workers" },
  waive  = {
    { "transactions-end", flow = "ap.contoso.test -> sip.aol.test",
      why = "the MESSAGE on the connection AOL refuses (no clientAuth) is never answered" },
  },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob = lab.provider("aol"):user("bob@aol.test")
    -- no connection to AOL exists yet: the first one is opened after the reload
    local bad_cert, bad_key = lab:bad_cert("no-client-auth", "ap.contoso.test")
    local good_cert, good_key = set_external_cert(lab, bad_cert, bad_key)
    local st = alice:send_message(bob, "with the reloaded leaf")
    expect(st ~= 200, "a MESSAGE towards AOL over a connection with the reloaded leaf " ..
      "(no clientAuth) fails, got " .. tostring(st))
    expect_eq(bob:inbox_count(), 0, "messages bob got while the proxy showed a leaf without clientAuth")
    set_external_cert(lab, good_cert, good_key)
    expect_eq(alice:send_message(bob, "with the good leaf again"), 200,
      "MESSAGE towards AOL after the good leaf is reloaded")
    bob:expect_message{ from = alice, contains = "with the good leaf again" }
  end,
}
