-- inward: the lab's own judgement of a request the proxy let into the enterprise network: what
-- the inside trusts must be well-formed (in the spirit of Kamailio's sanity module). Written
-- from RFC 3261's grammar, independently of the proxy's code, so a bug cannot hide in both.
--
--   local inward = require("inward")
--   local why = inward.problem(text)   -- nil when well-formed, else the first problem in words
local M = {}

local function unfold(head)
  return (head:gsub("\r\n[ \t]+", " "))
end

-- RFC 3261 25.1: token and word characters
local TOKEN = "^[%w%-%.!%%%*_%+`'~]+$"
local WORDCH = "[%w%-%.!%%%*_%+`'~%(%)<>:\\\"/%[%]%?{}]"

local function host_ok(h)
  if h:match("^%[[%x:%.]+%]$") then return true end           -- IPv6 reference
  if h:match("^%d+%.%d+%.%d+%.%d+$") then
    for o in h:gmatch("%d+") do if tonumber(o) > 255 then return false end end
    return true
  end
  if #h == 0 or #h > 255 or h:match("%.%.") or h:match("^[%.%-]") then return false end
  for label in h:gmatch("[^%.]+") do
    if not label:match("^%w[%w%-]*%w$") and not label:match("^%w$") then return false end
  end
  return h:match("^[%w%.%-]+$") ~= nil
end

local function port_ok(p)
  return p == nil or (p:match("^%d+$") and #p <= 5 and tonumber(p) >= 1 and tonumber(p) <= 65535)
end

-- a name-addr or addr-spec (or, bare, the Request-URI): its SIP URI must have a host, and a
-- user part when '@' is there. In a header an addr-spec ends at ';' (RFC 3261 20.10: a URI
-- with ';' must be in <>), but a bare Request-URI's user part may hold ';' (RFC 3261 19.1.1
-- user-unreserved; RFC 4475 3.1.1.10 "semiuri": sip:user;par=u%40example.net@example.com).
-- A header value without its quoted strings (RFC 3261 25.1 quoted-string, with quoted-pairs):
-- a display name "<" holds no URI.
local function unquoted(v)
  local out, i, n = {}, 1, #v
  while i <= n do
    local c = v:sub(i, i)
    if c == '"' then
      i = i + 1
      while i <= n and v:sub(i, i) ~= '"' do
        i = i + (v:sub(i, i) == "\\" and 2 or 1)
      end
      out[#out + 1] = '""'
    else
      out[#out + 1] = c
    end
    i = i + 1
  end
  return table.concat(out)
end

local function uri_problem(what, v, bare)
  if not bare then v = unquoted(v) end
  local uri = bare and v or v:match("<([^>]*)>") or v:match("^%s*([^;%s]+)")
  if not uri then return what .. " has no URI" end
  local scheme, rest = uri:match("^(%a[%w%+%-%.]*):(.*)$")
  if not scheme then return what .. " URI has no scheme" end
  scheme = scheme:lower()
  if scheme ~= "sip" and scheme ~= "sips" then return nil end -- other schemes: not ours to judge
  -- the user part may hold ';' and '?' (RFC 3261 25.1 user-unreserved), the host cannot '@'
  local user, after = rest:match("^([^@]*)@(.*)$")
  if user and #user == 0 then return what .. " URI has an empty user part" end
  local hp = (after or rest):match("^[^;%?]*")
  local host, port = hp:match("^(%[.-%]):?(%d*)$")
  if not host then host, port = hp:match("^([^:]*):?(.*)$") end
  if port == "" then port = nil end
  if not host_ok(host or "") then return what .. " URI host '" .. tostring(host) .. "' is not a host" end
  if not port_ok(port) then return what .. " URI port '" .. port .. "' is out of range" end
  return nil
end

function M.problem(text)
  local head, body = text:match("^(.-)\r\n\r\n(.*)$")
  if not head then return "no end of header" end
  -- raw control bytes (HTAB aside) and DEL have no place in a header (RFC 3261 25.1)
  local bad = head:find("[%z\1-\8\11\12\14-\31\127]")
  if bad then return string.format("control byte 0x%02x in the header", head:byte(bad)) end
  head = unfold(head)
  local lines = {}
  for line in (head .. "\r\n"):gmatch("(.-)\r\n") do lines[#lines + 1] = line end
  for _, line in ipairs(lines) do
    if line:find("[\r\n]") then return "bare CR or LF in the header" end
  end
  local method, ruri, version = lines[1]:match("^(%S+) (%S+) (%S+)$")
  if not method then return "Request-Line is not 'Method SP Request-URI SP SIP-Version'" end
  if not method:match(TOKEN) then return "method is not a token" end
  if version ~= "SIP/2.0" then return "SIP-Version is " .. version end
  local p = uri_problem("Request-URI", ruri, true)
  if p then return p end
  local h = {}
  for i = 2, #lines do
    local name, value = lines[i]:match("^([^:]-)%s*:%s*(.-)%s*$")
    if not name or not name:match(TOKEN) then return "header line " .. i .. " has no token name" end
    name = name:lower()
    local long = ({ v = "via", f = "from", t = "to", i = "call-id", m = "contact", l = "content-length",
                    c = "content-type", e = "content-encoding", k = "supported", s = "subject" })[name]
    name = long or name
    h[name] = h[name] or {}
    h[name][#h[name] + 1] = value
  end
  for _, need in ipairs{ "via", "from", "to", "call-id", "cseq", "max-forwards" } do
    if not h[need] then return "no " .. need end
  end
  for _, vv in ipairs(h["via"]) do
    for one in (vv .. ","):gmatch("%s*([^,]+),") do
      local proto, sentby = one:match("^(SIP%s*/%s*2%.0%s*/%s*[%w%-%.!%%%*_%+`'~]+)%s+([^;%s]+)")
      if not proto then return "Via '" .. one .. "' is not SIP/2.0/transport sent-by" end
      local host, port = sentby:match("^(%[.-%]):?(%d*)$")
      if not host then host, port = sentby:match("^([^:]*):?(.*)$") end
      if not host_ok(host) then return "Via host '" .. host .. "' is not a host" end
      if port ~= "" and not port_ok(port) then return "Via port '" .. port .. "' is out of range" end
    end
  end
  local cid = h["call-id"][1]
  if #h["call-id"] ~= 1 or not (cid:match("^" .. WORDCH .. "+$") or
      cid:match("^" .. WORDCH .. "+@" .. WORDCH .. "+$")) then
    return "Call-ID '" .. cid .. "' is not word[@word]"
  end
  local cnum, cmeth = h["cseq"][1]:match("^(%d+)%s+(%S+)$")
  if not cnum or #cnum > 10 or tonumber(cnum) > 2147483647 then return "CSeq number out of range" end
  if cmeth ~= method then return "CSeq method " .. cmeth .. " is not " .. method end
  local mf = h["max-forwards"][1]
  if not mf:match("^%d+$") or tonumber(mf) > 255 then return "Max-Forwards '" .. mf .. "' out of range" end
  for _, e in ipairs(h["expires"] or {}) do
    if not e:match("^%d+$") or #e > 10 or tonumber(e) > 4294967295 then
      return "Expires '" .. e .. "' out of range"
    end
  end
  for _, what in ipairs{ "from", "to" } do
    if #h[what] ~= 1 then return #h[what] .. " " .. what .. " headers" end
    p = uri_problem(what, h[what][1])
    if p then return p end
  end
  for _, c in ipairs(h["contact"] or {}) do
    if c ~= "*" then p = uri_problem("Contact", c) if p then return p end end
  end
  for _, ct in ipairs(h["content-type"] or {}) do
    if not ct:match("^[%w%-%.!%%%*_%+`'~]+/[%w%-%.!%%%*_%+`'~]+%s*;?") then
      return "Content-Type '" .. ct .. "' is not type/subtype"
    end
  end
  local cl = h["content-length"] and h["content-length"][1]
  if not cl or not cl:match("^%d+$") or tonumber(cl) ~= #body then
    return "Content-Length " .. tostring(cl) .. " for a body of " .. #body
  end
  if body:find("%z") and (h["content-type"] or {})[1] and h["content-type"][1]:lower():match("sdp") then
    return "NUL in the SDP body"
  end
  return nil
end

return M
