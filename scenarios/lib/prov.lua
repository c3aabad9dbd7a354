-- Shared steps for the provisioning scenarios: a valid request form, and a MESSAGE probe.
local M = {}

-- The form a Contoso administrator fills in (PROV-001 fields); overrides replace fields, and
-- a field set to false is left out of the submission.
function M.form(overrides)
  local f = {
    language = "en", ack_vl = true, ack_pic = true,
    org_name = "Contoso Ltd", master_agreement = "MA-1234", enrollment = "EN-5678",
    agreement_type = "enterprise", primary_domain = "contoso.test",
    admin_email = "admin@contoso.test", ap_fqdn = "ap.contoso.test",
    contact_last = "Smith", contact_first = "Ann", contact_email = "ann@contoso.test",
    contact_phone = "+1 425 555 0100", providers = { "aol" },
  }
  for k, v in pairs(overrides or {}) do
    if v == false then f[k] = nil else f[k] = v end
  end
  return f
end

-- Submits the form and waits for the whole workflow; returns the request id.
function M.provision(site, overrides)
  local id, problems = site:submit(M.form(overrides))
  expect(id ~= nil, "request accepted (problems: " .. table.concat(problems or {}, "; ") .. ")")
  site:expect_state(id, "provisioned", { timeout = 5 })
  return id
end

return M
