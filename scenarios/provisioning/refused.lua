-- Bad submissions are refused naming every problem, over HTTPS and through the C API, and
-- nothing is provisioned: no request, no mail, no route on any provider.
local prov = require("prov")

return scenario {
  title  = "a bad provisioning request is refused naming every problem; nothing is provisioned",
  covers = { "PROV-002" },
  tags   = { "provisioning" },
  lab    = { provisioned = false },
  run = function(lab)
    local site = lab:provisioning()
    local bad = prov.form{
      org_name = false,                 -- missing field
      ack_vl = false,                   -- unchecked acknowledgement
      primary_domain = "contoso..test", -- malformed domain
      ap_fqdn = "ap_contoso",           -- malformed FQDN
      contact_email = "ann-at-contoso", -- malformed e-mail
      providers = {},                   -- no provider
    }
    local want = {
      "Organization name / 组织名称: required",
      "Volume licensing agreement / 批量许可协议: not acknowledged",
      "Primary SIP domain",
      "Access proxy FQDN",
      "E-mail / 电子邮件地址",
      "Public IM service providers / 公共即时通讯服务提供商: choose at least one",
    }

    -- through the site's own workflow
    local id, problems = site:submit(bad)
    expect_eq(id, nil, "request id of a bad submission")
    local all = table.concat(problems, "\n")
    expect_eq(#problems, #want, "problems named (" .. all .. ")")
    for _, w in ipairs(want) do
      expect(all:find(w, 1, true), "a problem naming '" .. w .. "' in:\n" .. all)
    end

    -- over HTTPS, as the administrator's browser posts it: 400 naming each problem
    local r, err = site:http_post("/submit", bad)
    expect(r ~= nil, "a response to POST /submit (" .. tostring(err) .. ")")
    expect_eq(r.status, 400, "status of a bad POST /submit")
    for _, f in ipairs({ "org_name", "ack_vl", "primary_domain", "ap_fqdn", "contact_email",
                         "providers" }) do
      expect(r.body:find('data-field="' .. f .. '"', 1, true), "problem about " .. f)
    end

    -- each fault alone is refused too
    for k, v in pairs({ enrollment = false, ack_pic = false, admin_email = "admin@",
                        ap_fqdn = "-bad-.contoso.test", agreement_type = "bogus",
                        providers = {} }) do
      local one, p = site:submit(prov.form{ [k] = v })
      expect_eq(one, nil, "request id with a bad " .. k)
      expect(#p >= 1, "a problem named for " .. k)
    end

    -- nothing was provisioned
    lab:sleep(0.3)
    expect_eq(site:count(), 0, "requests kept after refusals")
    expect_eq(#site:mails(1), 0, "mails sent after refusals")
    local alice = lab.enterprise:user("alice@contoso.test")
    for _, name in ipairs({ "aol", "yahoo", "msn" }) do
      local u = lab.provider(name):user("bob@" .. name .. ".test")
      local status = u:send_message(alice, "is anyone routed?")
      expect_eq(status, 404, name .. ": MESSAGE to an unprovisioned domain")
    end
  end,
}
