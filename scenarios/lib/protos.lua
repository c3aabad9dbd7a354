-- protos: a PROTOS-style generator of hostile SIP requests (after the PROTOS c07-sip method,
-- written anew): a request grammar whose every element -- request line, each header's parts,
-- lengths, body, encodings -- is replaced in turn by each value of an anomaly library (boundary
-- numbers, format strings, overflows, control bytes, 8-bit bytes, delimiters); then a second
-- grammar adds one more header field (or From/To/Via parameter) holding each anomaly. One
-- element, one anomaly, one case: case i is always the same bytes, so a failure is replayed by its
-- number. Pure Lua, no lab calls: scenarios send the cases, fuzz/seed.lua writes them as seeds.
--
--   local protos = require("protos")
--   local g = protos.new{ from = "bob@aol.test", to = "alice@contoso.test" }
--   for i = 1, g:count() do local c = g:case(i) ... c.text, c.element, c.anomaly, c.drop_ok end
local M = {}

-- The anomaly library: { name, value }. Values are inserted as they are, byte for byte.
local function anomalies()
  local a = {}
  local function add(name, v) a[#a + 1] = { name, v } end
  -- boundary numbers (PROTOS "integer" group)
  for _, n in ipairs{ "0", "-0", "1", "-1", "7", "127", "128", "255", "256", "32767", "32768",
                      "65535", "65536", "2147483647", "2147483648", "-2147483648",
                      "-2147483649", "4294967295", "4294967296", "-1073741823",
                      "9223372036854775807", "9223372036854775808", "18446744073709551616",
                      string.rep("9", 78), "+1", "007", "0x10", "1e9", "1.5", " 1", "1 ", "" } do
    add("number '" .. n .. "'", n)
  end
  -- format strings
  for _, f in ipairs{ "%s", "%s%s%s%s%s%s%s%s", "%n%n%n%n", "%x%x%x%x%x%x", "%d%d%d%d",
                      "%99999999s", "%.1024d", "%p%p%p%p", string.rep("%s", 64),
                      string.rep("%n", 32), "%@%@%@", "%c%c%c%c" } do
    add("format '" .. f:sub(1, 16) .. "'", f)
  end
  -- overflows: long runs of one character
  for _, n in ipairs{ 128, 256, 512, 1024, 2048, 4096, 8192, 15000 } do
    add("overflow A*" .. n, string.rep("A", n))
  end
  for _, ch in ipairs{ "@", ";", ":", "<", ">", "\"", "\\", ",", "=", "%", "/", "." } do
    add("overflow '" .. ch .. "'*2048", string.rep(ch, 2048))
  end
  add("overflow 1*5000", string.rep("1", 5000))
  add("overflow ' '*1000", string.rep(" ", 1000))
  -- control bytes, alone and inside a value
  for b = 0, 31 do
    add(string.format("control 0x%02x", b), string.char(b))
  end
  add("control 0x7f", "\127")
  add("control in value", "ab\0cd")
  add("ESC sequence", "\27[2J\27[31mred\27[0m")
  add("backspaces", "abc\8\8\8xyz")
  add("bare CR", "a\rb")
  add("bare LF", "a\nb")
  add("CRLF injection", "a\r\nX-Injected: 1")
  add("folded value", "a\r\n b")
  -- 8-bit bytes and broken UTF-8
  for _, v in ipairs{ "\128", "\192", "\255", "\192\175", "\237\160\128", "\244\144\128\128",
                      "\254\255", "caf\233", "\226\130", "\239\187\191", string.rep("\200", 64),
                      "\195\169t\195\169" } do
    add("8-bit " .. v:sub(1, 6):gsub(".", function(c) return string.format("\\x%02x", c:byte()) end), v)
  end
  -- delimiters and empty
  for _, v in ipairs{ "", " ", "\t", "@", "<", ">", "<>", "\"", "\"\"", ";", ";;;;;=token", "=",
                      ",", ":", "?", "&", "[", "]", "[::1", "sip:", "sip:@", "*", "-", "%",
                      "%00", "%zz", "%2", "a%0d%0ab" } do
    add("delimiter '" .. v:gsub("[\r\n\t]", { ["\r"] = "\\r", ["\n"] = "\\n", ["\t"] = "\\t" }) .. "'", v)
  end
  return a
end

M.ANOMALIES = anomalies()

-- The grammar's elements, in rendering order, with their normal values. kind "drop" marks the
-- elements whose damage can leave a request without what an answer needs (RFC 3261 8.2.6.2:
-- a top Via and a CSeq; 18.3: a readable Content-Length) -- there a silent drop is a rule.
local ELEMENTS = {
  { "method", "MESSAGE", "drop" },
  { "request-line space", " ", "drop" },
  { "Request-URI scheme", "sip" },
  { "Request-URI user", "%TO_USER%" },
  { "Request-URI host", "%TO_HOST%" },
  { "Request-URI port", "" },
  { "Request-URI parameter", "" },
  { "SIP-Version", "SIP/2.0", "drop" },
  { "Via protocol", "SIP/2.0", "drop" },
  { "Via transport", "TLS", "drop" },
  { "Via host", "%VIA_HOST%", "drop" },
  { "Via port", "5061", "drop" },
  { "Via branch", "z9hG4bK%CASE%x", "drop" },
  { "Via parameter", "rport", "drop" },
  { "second Via host", "relay.%FROM_HOST%" },
  { "Max-Forwards", "70" },
  { "From display name", "\"Bob\"" },
  { "From user", "%FROM_USER%" },
  { "From host", "%FROM_HOST%" },
  { "From tag", "%CASE%f" },
  { "To display name", "" },
  { "To user", "%TO_USER%" },
  { "To host", "%TO_HOST%" },
  { "Call-ID", "%CASE%c@%FROM_HOST%" },
  { "CSeq number", "1", "drop" },
  { "CSeq method", "MESSAGE", "drop" },
  { "Contact scheme", "sip" },
  { "Contact user", "%FROM_USER%" },
  { "Contact host", "client.%FROM_HOST%" },
  { "Expires", "300" },
  { "Content-Type", "text/plain" },
  { "Content-Length", "%LEN%", "drop" },
  { "Proxy-Require", "" },
  { "User-Agent", "protos-gen/1" },
  { "extra header name", "X-Probe" },
  { "body", "hello %CASE%" },
}
M.ELEMENTS = ELEMENTS

local function idx(name)
  for i, e in ipairs(ELEMENTS) do if e[1] == name then return i end end
  error("protos: no element " .. name)
end

-- opts: from, to (user@host), via_host (the sender's host name)
function M.new(opts)
  local g = { opts = opts or {} }
  local fu, fh = (g.opts.from or "bob@aol.test"):match("^(.-)@(.+)$")
  local tu, th = (g.opts.to or "alice@contoso.test"):match("^(.-)@(.+)$")
  g.vars = { FROM_USER = fu, FROM_HOST = fh, TO_USER = tu, TO_HOST = th,
             VIA_HOST = g.opts.via_host or ("sip." .. fh) }
  return setmetatable(g, { __index = M })
end

-- The second grammar: a valid MESSAGE plus one header field (or one parameter of From, To or
-- the top Via) whose value is the anomaly (every %s). Headers the proxy passes inward, and
-- parameters its answers must echo or neutralise. "drop" as for ELEMENTS: the top Via.
local HEADERS = {
  { "Route: <%s>" }, { "Record-Route: <sip:%s;lr>" }, { "Require: %s" }, { "Supported: %s" },
  { "Allow: %s" }, { "Event: %s" }, { "Subject: %s" }, { "Accept: %s" }, { "Date: %s" },
  { "Min-Expires: %s" }, { "Reply-To: <sip:%s@%FROM_HOST%>" },
  { "Authorization: Digest username=\"%s\", realm=\"%FROM_HOST%\"" },
  { "Call-Info: <http://%s/>;purpose=icon" }, { "In-Reply-To: %s" },
  { "P-Asserted-Identity: <sip:%s@%FROM_HOST%>" }, { "Refer-To: <sip:%s@%FROM_HOST%>" },
  { "Referred-By: <sip:%s@%FROM_HOST%>" }, { "Organization: %s" }, { "Priority: %s" },
  { "Content-Encoding: %s" }, { "Content-Disposition: %s" }, { "Accept-Language: %s" },
  { "Timestamp: %s" }, { "Warning: 399 %s \"x\"" }, { "Privacy: %s" }, { "Session-Expires: %s" },
  { "Reason: SIP;cause=%s" }, { "MIME-Version: %s" },
  { "Contact: <sip:%FROM_USER%@client.%FROM_HOST%>;expires=%s" },
  { "Contact: <sip:%FROM_USER%@client.%FROM_HOST%>;q=%s" },
  { "Contact: \"%s\" <sip:%FROM_USER%@client.%FROM_HOST%>" },
  { "Content-Type: text/plain;charset=%s", "type" },
  { "To: <sip:%TO_USER%@%TO_HOST%>;tag=%s", "to" },
  { "From: <sip:%FROM_USER%@%FROM_HOST%>;tag=%CASE%f;x=%s", "from" },
  { "Via: SIP/2.0/TLS %VIA_HOST%:5061;branch=z9hG4bK%CASE%x;received=%s", "via", "drop" },
  { "Via: SIP/2.0/TLS %VIA_HOST%:5061;branch=z9hG4bK%CASE%x;maddr=%s", "via", "drop" },
  { "Via: SIP/2.0/TLS %VIA_HOST%:5061;branch=z9hG4bK%CASE%x;ttl=%s", "via", "drop" },
  { "Via: SIP/2.0/TLS %VIA_HOST%:5061;branch=z9hG4bK%CASE%x;rport=%s", "via", "drop" },
  { "%s: value" }, { "X-Probe: a%sb" }, { "Max-Forwards: 7%s", "mf" }, { "Expires: 3%s" },
}
M.HEADERS = HEADERS

function M:count()
  return (#ELEMENTS + #HEADERS) * #M.ANOMALIES
end

-- The request with element values v (strings, indexed like ELEMENTS); "" leaves an optional
-- part (port, parameter, display name, Proxy-Require) out.
local function render(v)
  local function opt(prefix, s) return s ~= "" and (prefix .. s) or "" end
  local body = v[idx("body")]
  local len = v[idx("Content-Length")]:gsub("%%LEN%%", tostring(#body))
  local ruri = v[idx("Request-URI scheme")] .. ":" .. v[idx("Request-URI user")] .. "@" ..
      v[idx("Request-URI host")] .. opt(":", v[idx("Request-URI port")]) ..
      opt(";", v[idx("Request-URI parameter")])
  local sp = v[idx("request-line space")]
  local lines = {
    v[idx("method")] .. sp .. ruri .. sp .. v[idx("SIP-Version")],
    "Via: " .. v[idx("Via protocol")] .. "/" .. v[idx("Via transport")] .. " " ..
      v[idx("Via host")] .. opt(":", v[idx("Via port")]) .. ";branch=" .. v[idx("Via branch")] ..
      opt(";", v[idx("Via parameter")]),
    "Via: SIP/2.0/TLS " .. v[idx("second Via host")] .. ":5061;branch=z9hG4bKrelay1",
    "Max-Forwards: " .. v[idx("Max-Forwards")],
    "From: " .. opt("", v[idx("From display name")] ~= "" and (v[idx("From display name")] .. " ") or "") ..
      "<sip:" .. v[idx("From user")] .. "@" .. v[idx("From host")] .. ">;tag=" .. v[idx("From tag")],
    "To: " .. (v[idx("To display name")] ~= "" and (v[idx("To display name")] .. " ") or "") ..
      "<sip:" .. v[idx("To user")] .. "@" .. v[idx("To host")] .. ">",
    "Call-ID: " .. v[idx("Call-ID")],
    "CSeq: " .. v[idx("CSeq number")] .. " " .. v[idx("CSeq method")],
    "Contact: <" .. v[idx("Contact scheme")] .. ":" .. v[idx("Contact user")] .. "@" ..
      v[idx("Contact host")] .. ":5061;transport=tls>",
    "Expires: " .. v[idx("Expires")],
    v[idx("extra header name")] .. ": probe",
    "User-Agent: " .. v[idx("User-Agent")],
  }
  if v[idx("Proxy-Require")] ~= "" then lines[#lines + 1] = "Proxy-Require: " .. v[idx("Proxy-Require")] end
  lines[#lines + 1] = "Content-Type: " .. v[idx("Content-Type")]
  lines[#lines + 1] = "Content-Length: " .. len
  return table.concat(lines, "\r\n") .. "\r\n\r\n" .. body
end

-- %NAME% variables of a template: the sender's and receiver's names, the case number.
local function expand(t, vars, i)
  return (t:gsub("%%(%u+_?%u*)%%", function(name)
    if name == "CASE" then return tostring(i) end
    return vars[name] or ("%" .. name .. "%")
  end))
end

-- Case i of the second grammar (HEADERS), numbered after the first's.
local function header_case(self, i)
  local na = #M.ANOMALIES
  local k = i - #ELEMENTS * na
  local h = HEADERS[(k - 1) // na + 1]
  local an = M.ANOMALIES[(k - 1) % na + 1]
  local v = self.vars
  local line = expand(h[1], v, i):gsub("%%s", function() return an[2] end)
  local body = "hello " .. i
  local lines = {
    "MESSAGE sip:" .. v.TO_USER .. "@" .. v.TO_HOST .. " SIP/2.0",
    h[2] == "via" and line or ("Via: SIP/2.0/TLS " .. v.VIA_HOST .. ":5061;branch=z9hG4bK" .. i .. "x"),
    "Via: SIP/2.0/TLS relay." .. v.FROM_HOST .. ":5061;branch=z9hG4bKrelay1",
    h[2] == "mf" and line or "Max-Forwards: 70",
    h[2] == "from" and line or ("From: \"Bob\" <sip:" .. v.FROM_USER .. "@" .. v.FROM_HOST .. ">;tag=" .. i .. "f"),
    h[2] == "to" and line or ("To: <sip:" .. v.TO_USER .. "@" .. v.TO_HOST .. ">"),
    "Call-ID: " .. i .. "c@" .. v.FROM_HOST,
    "CSeq: 1 MESSAGE",
    h[2] == "type" and line or "Content-Type: text/plain",
  }
  if not h[2] then lines[#lines + 1] = line end
  lines[#lines + 1] = "Content-Length: " .. #body
  return {
    n = i,
    text = table.concat(lines, "\r\n") .. "\r\n\r\n" .. body,
    element = h[1]:sub(1, 48),
    anomaly = an[1],
    drop_ok = h[3] == "drop" or an[2]:find("[\r\n]") ~= nil,
  }
end

-- Case i (1..count): { text, element, anomaly, drop_ok, n }.
function M:case(i)
  assert(i >= 1 and i <= self:count(), "protos: case out of range")
  local na = #M.ANOMALIES
  if i > #ELEMENTS * na then return header_case(self, i) end
  local e = (i - 1) // na + 1
  local an = M.ANOMALIES[(i - 1) % na + 1]
  local v = {}
  local vars = self.vars
  for k, el in ipairs(ELEMENTS) do
    v[k] = el[2]:gsub("%%(%u+_?%u*)%%", function(name)
      if name == "CASE" then return tostring(i) end
      if name == "LEN" then return "%LEN%" end
      return vars[name] or ("%" .. name .. "%")
    end)
  end
  -- the method also names the CSeq method unless the CSeq method is the element itself
  v[e] = an[2]
  if ELEMENTS[e][1] == "method" then v[idx("CSeq method")] = an[2] end
  local text = render(v)
  local crlf = an[2]:find("[\r\n]") ~= nil
  return {
    n = i,
    text = text,
    element = ELEMENTS[e][1],
    anomaly = an[1],
    -- unanswerable or unframeable by the rules: a drop (or a close) is a correct outcome
    drop_ok = ELEMENTS[e][3] == "drop" or crlf,
  }
end

return M
