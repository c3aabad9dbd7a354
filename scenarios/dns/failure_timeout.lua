-- DNS-004 with timeout: see scenarios/lib/dnsfail.lua.
return require("dnsfail")("timeout", 5)
