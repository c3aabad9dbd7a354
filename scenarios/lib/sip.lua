-- sip: builds SIP request text for probes sent with site:send_raw (shared by scenarios).
local M = {}

local n = 0
local function token()
  n = n + 1
  return string.format("%x%x%d", math.random(0, 0xffffff), os.time() & 0xffff, n)
end

-- M.request{ method="MESSAGE", from="alice@contoso.test", to="bob@aol.test", via_host=...,
--   headers={ "Max-Forwards: 0", ... } (replace defaults of the same name), body="hi",
--   content_type="text/plain" } -> text with a correct Content-Length
function M.request(t)
  local method = t.method or "MESSAGE"
  local ruri = t.ruri or ("sip:" .. t.to)
  local body = t.body or ""
  local hdr = {
    ["via"] = string.format("Via: SIP/2.0/TLS %s:5061;branch=z9hG4bK%s", t.via_host or "probe.invalid", token()),
    ["max-forwards"] = "Max-Forwards: 70",
    ["from"] = string.format("From: <sip:%s>;tag=%s", t.from, token()),
    ["to"] = string.format("To: <sip:%s>", t.to),
    ["call-id"] = "Call-ID: " .. (t.call_id or (token() .. "@probe")),
    ["cseq"] = "CSeq: " .. (t.cseq or 1) .. " " .. method,
  }
  local order = { "via", "max-forwards", "from", "to", "call-id", "cseq" }
  local extra = {}
  for _, h in ipairs(t.headers or {}) do
    local name = h:match("^([^:]+)"):lower()
    if hdr[name] then hdr[name] = h else extra[#extra + 1] = h end
  end
  local lines = { string.format("%s %s SIP/2.0", method, ruri) }
  for _, k in ipairs(order) do if hdr[k] ~= false then lines[#lines + 1] = hdr[k] end end
  for _, h in ipairs(extra) do lines[#lines + 1] = h end
  if #body > 0 then lines[#lines + 1] = "Content-Type: " .. (t.content_type or "text/plain") end
  lines[#lines + 1] = "Content-Length: " .. #body
  return table.concat(lines, "\r\n") .. "\r\n\r\n" .. body
end

-- Value of the first header `name` in message text (case-insensitive), or nil.
function M.header(text, name)
  local head = (text:match("^(.-)\r\n\r\n") or text):gsub("\r\n[ \t]+", " ")
  for line in (head .. "\r\n"):gmatch("(.-)\r\n") do
    local k, v = line:match("^([^:]+):%s*(.*)$")
    if k and k:lower():gsub("%s+$", "") == name:lower() then return v end
  end
  return nil
end

-- All values of header `name`.
function M.headers(text, name)
  local out = {}
  local head = (text:match("^(.-)\r\n\r\n") or text):gsub("\r\n[ \t]+", " ")
  for line in (head .. "\r\n"):gmatch("(.-)\r\n") do
    local k, v = line:match("^([^:]+):%s*(.*)$")
    if k and k:lower():gsub("%s+$", "") == name:lower() then out[#out + 1] = v end
  end
  return out
end

return M
