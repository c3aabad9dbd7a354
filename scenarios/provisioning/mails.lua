-- The three mails of a request, in order: received (being validated), sent to the chosen
-- providers with a processing time, and provisioned (communication can start).
local prov = require("prov")

return scenario {
  title  = "a provisioning request sends its three mails in order, each with its stage",
  covers = { "PROV-003", "PROV-004", "PROV-006" },
  tags   = { "provisioning" },
  lab    = { provisioned = false },
  run = function(lab)
    local site = lab:provisioning()
    local r, err = site:http_post("/submit", prov.form{ providers = { "aol", "yahoo" } })
    expect(r ~= nil, "a response to POST /submit (" .. tostring(err) .. ")")
    expect_eq(r.status, 303, "status of a good POST /submit")
    local id = tonumber((r.location or ""):match("/request/(%d+)"))
    expect(id ~= nil, "Location names the request, got " .. tostring(r.location))

    -- PROV-003: the first mail is there as soon as the request is
    local m1 = site:mails(id)
    expect_eq(#m1, 1, "mails right after submitting")
    expect_eq(m1[1].stage, "received", "stage of the first mail")
    expect(m1[1].to:find("ann@contoso.test", 1, true), "first mail to the contact, got " .. m1[1].to)
    expect(m1[1].cc:find("admin@contoso.test", 1, true), "first mail copied to the admin")
    expect((m1[1].subject .. m1[1].body):lower():find("received", 1, true),
           "first mail says the request was received")
    expect(m1[1].body:lower():find("validat", 1, true), "first mail says it is being validated")
    local st = site:state(id)
    expect(st == "received" or st == "validating", "state right after submitting: " .. st)

    -- PROV-004: details went to the chosen providers, with an approximate processing time
    local m2 = site:expect_mail(id, "sent", { timeout = 3 })
    expect(m2.body:find("AOL", 1, true) and m2.body:find("Yahoo", 1, true),
           "second mail names the chosen providers:\n" .. m2.body)
    expect(not m2.body:find("MSN", 1, true), "second mail does not name MSN")
    expect(m2.body:lower():find("processing time: %d+"),
           "second mail gives a processing time:\n" .. m2.body)

    -- PROV-006: only when every chosen provider is configured
    local m3 = site:expect_mail(id, "provisioned", { timeout = 3 })
    expect_eq(site:provider_state(id, "aol"), "configured", "aol when the final mail went")
    expect_eq(site:provider_state(id, "yahoo"), "configured", "yahoo when the final mail went")
    expect_eq(site:provider_state(id, "msn"), "none", "msn (not chosen)")
    expect_eq(site:state(id), "provisioned", "request state")
    expect(m3.body:lower():find("communicat", 1, true), "final mail says communication can start")

    local all = site:mails(id)
    expect_eq(#all, 3, "mails for the request")
    expect_eq(all[1].stage .. "," .. all[2].stage .. "," .. all[3].stage,
              "received,sent,provisioned", "order of the mails")

    -- the status page over HTTPS agrees
    local page = site:http_get("/request/" .. id .. ".json")
    expect_eq(page.status, 200, "status of the request's JSON")
    expect(page.body:find('"state":"provisioned"', 1, true), "JSON state: " .. page.body)
    expect(page.body:find('"mail_count":3', 1, true), "JSON mail count: " .. page.body)
  end,
}
