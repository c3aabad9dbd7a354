-- TLS-007: a reload really puts the new certificate to use: the next connection the proxy
-- opens presents it. Here the new external leaf lacks clientAuth, which the AOL-like provider
-- refuses (TLS-004): a MESSAGE towards AOL fails after that reload and works again after the
-- good leaf is reloaded. A proxy that kept its old certificate would get 200 both times.
local files = require("files")

-- Every "<name> = old" line of text becomes "<name> = new" (plain text, no patterns).
local function replace_setting(text, name, old, new)
  local from, to = name .. " = " .. old .. "\n", name .. " = " .. new .. "\n"
  local out, pos, n = {}, 1, 0
  while true do
    local s, e = text:find(from, pos, true)
    if not s then break end
    out[#out + 1] = text:sub(pos, s - 1) .. to
    pos, n = e + 1, n + 1
  end
  out[#out + 1] = text:sub(pos)
  return table.concat(out), n
end

-- The external edge's certificate in the SUT's own configuration (accessproxy's [external]
-- section, or the default profiles of Kamailio's TLS configuration), then a reload.
local function set_external_cert(lab, cert, key)
  local kam = lab.sut_kind == "kamailio"
  local path = lab.dir .. (kam and "/kamailio-tls.cfg" or "/accessproxy.conf")
  local conf = files.read(path)
  local section = conf:match(kam and "%[server:default%].-\n\n" or "%[external%].-\n\n")
  expect(section, "the external edge's section in the generated " .. path)
  local ck, kk = kam and "certificate" or "cert", kam and "private_key" or "key"
  local old_cert = section:match("\n" .. ck .. " = ([^\n]*)")
  local old_key = section:match("\n" .. kk .. " = ([^\n]*)")
  expect(old_cert and old_key, "a certificate and a key in the external edge's section")
  local n1, n2
  conf, n1 = replace_setting(conf, ck, old_cert, cert)
  conf, n2 = replace_setting(conf, kk, old_key, key)
  expect(n1 > 0 and n2 > 0, "the certificate and key replaced in " .. path)
  files.write(path, conf)
  local answer = lab.sut:ctl("reload")
  expect(answer and answer:lower():match("^ok"), "the reload is accepted (ok...), got " .. tostring(answer))
  return old_cert, old_key
end

return scenario {
  title  = "After a certificate reload, new connections present the new certificate",
  covers = { "TLS-007" },
  tags   = { "tls", "reload", "workers" },
  -- an edge that learns of the refused handshake only from its transaction timer answers 408
  -- after Timer F (32 s): Kamailio does
  timeout = 60,
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
