-- synth: a synthetic run of N scenarios rendered by the real renderers, to measure the report's
-- size and print it without a lab. lua5.4 reports/synth.lua ROOT OUT [N] [PICS]
-- Writes OUT/index.html, pages/, results.json, junit.xml; prints the index size in bytes.
local root, out, n, pics = arg[1], arg[2], tonumber(arg[3] or "1000"), arg[4]
if not root or not out then
  io.stderr:write("usage: lua5.4 reports/synth.lua ROOT OUT [N] [PICS]\n")
  os.exit(2)
end
package.path = root .. "/reports/?.lua;" .. package.path
local catalog = require("catalog")
local list = catalog.load(root)
os.execute("mkdir -p '" .. out .. "'")
local VERDICTS = { "pass", "pass", "pass", "pass", "pass", "pass", "fail", "inconc", "skip", "error" }
local run = {
  out = out, root = root, seconds = 0, seed = 1, host = "synth", cores = 1,
  start = os.time(), ["end"] = os.time(),
  sut_binary = out .. "/bin/accessproxy", harness_binary = out .. "/bin/piclab",
  pics = pics or (root .. "/reports/pics/accessproxy.pics"), baseline = "", xfail = "",
  ["repeat"] = 1, first_lab = 1, timeout = 30, scenarios = {},
}
for i = 1, n do
  local r1, r2 = list[(i - 1) % #list + 1], list[(i * 7) % #list + 1]
  local area = r1.id:match("^(%u+)"):lower()
  local v = VERDICTS[(i - 1) % #VERDICTS + 1]
  local name = string.format("%s/synthetic_%04d", area, i)
  run.scenarios[#run.scenarios + 1] = {
    name = name, file = "scenarios/" .. name .. ".lua", verdict = v,
    title = "synthetic scenario " .. i .. " exercising " .. r1.id .. " and " .. r2.id,
    reason = v == "pass" and "" or ("response to alice's MESSAGE: expected 403, got 200 (synthetic " .. i .. ")"),
    where = v == "pass" and "" or ("scenarios/" .. name .. ".lua:12"),
    dir = out .. "/" .. name:gsub("/", "."), covers = r1.id .. " " .. r2.id, tags = "synthetic",
    waived = "", history = "", seconds = 0.5 + (i % 7) / 10, packets = 40 + i % 60,
    fail_frame = v == "fail" and 25 or 0, fail_frame_exact = false, assertions = 3 + i % 5, runs = 1,
    runs_passed = v == "pass" and 1 or 0,
  }
  run.seconds = run.seconds + run.scenarios[#run.scenarios].seconds
end
-- Outside piclab there is no capture decoder: every synthetic scenario "captured" the same
-- three messages (a MESSAGE through both edges and its 200), frames 10, 20 and 30.
if not piclab_decode then
  local function msg(frame, src, sh, dst, dh, leg, first, extra)
    return { frame = frame, time = frame / 100, src = src, dst = dst, src_host = sh, dst_host = dh,
      leg = leg, tls = true, call_id = "synth@contoso.test", request = first ~= "200",
      method = "MESSAGE", status = first == "200" and 200 or nil,
      text = (first == "200" and "SIP/2.0 200 OK\r\n" or "MESSAGE sip:bob@aol.test SIP/2.0\r\n") ..
        extra .. "Call-ID: synth@contoso.test\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n" }
  end
  function piclab_decode()
    return {
      msg(10, "127.77.1.2:40000", "pool.contoso.test", "127.77.1.3:5061", "ap-int.contoso.test", "internal",
        "MESSAGE", "Via: SIP/2.0/TLS pool.contoso.test;branch=z9hG4bKsynth1\r\n"),
      msg(20, "127.77.1.4:40001", "ap.contoso.test", "127.77.1.10:5061", "sip.aol.test", "external",
        "MESSAGE", "Via: SIP/2.0/TLS ap.contoso.test;branch=z9hG4bKsynth2\r\n"),
      msg(30, "127.77.1.10:5061", "sip.aol.test", "127.77.1.4:40001", "ap.contoso.test", "external",
        "200", "Via: SIP/2.0/TLS ap.contoso.test;branch=z9hG4bKsynth2\r\n"),
    }
  end
end
local render = dofile(root .. "/reports/render.lua")
render(run)
local f = assert(io.open(out .. "/index.html", "rb"))
print(f:seek("end"))
f:close()
