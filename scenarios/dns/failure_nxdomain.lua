-- DNS-004 with nxdomain: see scenarios/lib/dnsfail.lua.
return require("dnsfail")("nxdomain", 1.5)
