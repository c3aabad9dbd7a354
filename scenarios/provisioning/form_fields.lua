-- The request form, fetched over HTTPS, asks for every field of PROV-001 in both languages.
return scenario {
  title  = "GET / on provisioning.test shows every field of the request form, English and Chinese",
  covers = { "PROV-001" },
  tags   = { "provisioning" },
  run = function(lab)
    local site = lab:provisioning()
    expect(site:url():match("^https://127%.77%.%d+%.20:443/$"), "site URL " .. site:url())
    local r, err = site:http_get("/")
    expect(r ~= nil, "a response to GET / (" .. tostring(err) .. ")")
    expect_eq(r.status, 200, "status of GET /")
    expect(r.content_type:find("text/html", 1, true), "HTML page, got " .. r.content_type)
    local names = {
      "language", "ack_vl", "ack_pic", "org_name", "master_agreement", "enrollment",
      "agreement_type", "primary_domain", "admin_email", "ap_fqdn",
      "extra_domain_1", "extra_email_1", "contact_last", "contact_first", "contact_email",
      "contact_phone", "provider_aol", "provider_yahoo", "provider_msn",
    }
    for _, n in ipairs(names) do
      expect(r.body:find('name="' .. n .. '"', 1, true), "form field " .. n)
    end
    local labels = {
      { "Preferred language", "首选语言" },
      { "Organization name", "组织名称" },
      { "Master agreement number", "主商业协议编号" },
      { "Enrollment number", "协议注册编号" },
      { "License agreement type", "许可证协议类型" },
      { "Primary SIP domain", "主要 SIP 域名" },
      { "Administrator e-mail", "管理员电子邮件地址" },
      { "Access proxy FQDN", "访问代理的完全限定域名" },
      { "Additional SIP domains", "其他 SIP 域名" },
      { "Last name", "姓氏" }, { "First name", "名字" }, { "Phone", "电话号码" },
    }
    for _, l in ipairs(labels) do
      expect(r.body:find(l[1], 1, true), "English label '" .. l[1] .. "'")
      expect(r.body:find(l[2], 1, true), "Chinese label '" .. l[2] .. "'")
    end
    -- the licence agreement types (PROV-001)
    for _, v in ipairs({ "select", "enterprise", "open_value", "other" }) do
      expect(r.body:find('value="' .. v .. '"', 1, true), "agreement type " .. v)
    end
    -- nothing was submitted by looking at the form
    expect_eq(site:count(), 0, "requests after GET /")
  end,
}
