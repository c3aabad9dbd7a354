-- DNS-004 with servfail: see scenarios/lib/dnsfail.lua.
return require("dnsfail")("servfail", 1.5)
