-- ladder: the SIP flow of a capture as lifelines and arrows. One model for every view: the HTML
-- report draws it as SVG (page.lua), `piclab ladder` and a failed scenario's terminal summary
-- print it as aligned text, and the console prints one line per message as it crosses.
local M = {}

-- Lab hosts left to right, as the topology drawing in DESIGN.md.
M.COLUMNS = { "pool.contoso.test", "ap-int.contoso.test", "ap.contoso.test",
              "sip.aol.test", "sip.yahoo.test", "sip.msn.test", "provisioning.test", "ns.test" }

-- The lifeline of one end of a message: the lab host, else its address without the port
-- (captures from outside a lab).
function M.host(m, side)
  local h = m[side .. "_host"]
  if h and h ~= "" then return h end
  local a = m[side] or "?"
  return a:match("^%[(.*)%]:%d+$") or a:match("^(.*):%d+$") or a
end

function M.label(m)
  if m.unparsable then return "(unparsable)" end
  if m.request then return m.method end
  return tostring(m.status) .. " (" .. tostring(m.method) .. ")"
end

-- The first characters of a Call-ID: enough to tell the dialogs of a ladder apart.
function M.short_callid(cid)
  return (cid or "-"):sub(1, 8)
end

-- The lifelines that took part, lab hosts in their fixed order, others after them as they come.
function M.columns(msgs)
  local used, cols, seen = {}, {}, {}
  for _, m in ipairs(msgs) do used[M.host(m, "src")] = true; used[M.host(m, "dst")] = true end
  for _, h in ipairs(M.COLUMNS) do
    if used[h] then cols[#cols + 1] = h; seen[h] = true end
  end
  for _, m in ipairs(msgs) do
    for _, side in ipairs({ "src", "dst" }) do
      local h = M.host(m, side)
      if not seen[h] then cols[#cols + 1] = h; seen[h] = true end
    end
  end
  return cols
end

-- One line per message, for a live view: wall-clock time, leg, sender -> receiver, label,
-- short Call-ID.
function M.line(m)
  local t = m.time or 0
  local clock = os.date("%H:%M:%S", math.floor(t)) .. string.format(".%03d", math.floor((t % 1) * 1000))
  return string.format("%s %-8s %s -> %s  %s%s  %s", clock, m.leg or "?", M.host(m, "src"),
    M.host(m, "dst"), M.label(m), m.tls == false and " [CLEARTEXT]" or "", M.short_callid(m.call_id))
end

local function put(s, pos, str)
  return s:sub(1, pos) .. str .. s:sub(pos + #str + 1)
end

-- The aligned ASCII ladder: a header of lifelines, then per message its time since the first,
-- an arrow between the two lifelines labelled with the method or status, and the short
-- Call-ID. o.last = N keeps only the last N messages (the header stays).
function M.text(msgs, o)
  o = o or {}
  if #msgs == 0 then return "(no SIP messages in the capture)" end
  local cols = M.columns(msgs)
  local w = 22
  for _, h in ipairs(cols) do if #h + 2 > w then w = math.min(#h + 2, 40) end end
  local x, width = {}, #cols * w
  for i, h in ipairs(cols) do x[h] = (i - 1) * w + w // 2 end
  local head = string.rep(" ", width)
  for _, h in ipairs(cols) do
    local name = h:sub(1, w - 1)
    head = put(head, math.max(0, x[h] - #name // 2), name)
  end
  local out = { string.rep(" ", 10) .. head:gsub("%s+$", "") }
  local t0 = msgs[1].time or 0
  local first = o.last and math.max(1, #msgs - o.last + 1) or 1
  if first > 1 then out[#out + 1] = string.format("%9s  (%d earlier messages)", "...", first - 1) end
  for i = first, #msgs do
    local m = msgs[i]
    local row = string.rep(" ", width)
    for _, h in ipairs(cols) do row = put(row, x[h], "|") end
    local a, b = x[M.host(m, "src")], x[M.host(m, "dst")]
    if a and b and a ~= b then
      local lo, hi = math.min(a, b), math.max(a, b)
      local arrow = string.rep("-", hi - lo - 1)
      local lab = " " .. M.label(m) .. (m.tls == false and " CLEAR" or "") .. " "
      if #lab > #arrow - 2 then lab = lab:sub(1, #arrow - 3) .. " " end
      local p = (#arrow - #lab) // 2
      arrow = arrow:sub(1, p) .. lab .. arrow:sub(p + #lab + 1)
      if b > a then arrow = arrow:sub(1, -2) .. ">" else arrow = "<" .. arrow:sub(2) end
      row = put(row, lo + 1, arrow)
    end
    out[#out + 1] = string.format("%9.3f %s  %s", (m.time or t0) - t0, row, M.short_callid(m.call_id))
  end
  return table.concat(out, "\n")
end

-- piclab ladder CAPTURE [KEYLOG] [LAST]: decodes with the harness's decoder and prints.
function M.print_capture(pcap, keylog, last)
  local msgs, err = piclab_decode(pcap, keylog)
  if not msgs then
    io.stderr:write("piclab ladder: ", pcap, ": ", tostring(err), "\n")
    return 2
  end
  print(M.text(msgs, { last = last }))
  return 0
end

return M
