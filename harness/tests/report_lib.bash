# Shared helpers of the report tests (sourced): check/finish counters and a JSON query in Lua.
passed=0
fails=0
check() {
	if eval "$2"; then echo "ok   - $1"; passed=$((passed + 1));
	else echo "FAIL - $1"; fails=$((fails + 1)); fi
}
finish() {
	echo "$name: $passed passed, $fails failed"
	[ "$fails" = 0 ]
	exit $?
}
# lj FILE EXPR: prints the Lua expression EXPR over the decoded JSON file as r.
lj() {
	lua5.4 -e "local c = require('cjson'); local f = assert(io.open('$1')); r = c.decode(f:read('a'));
		f:close(); local function byname(n) for _, s in ipairs(r.scenarios) do if s.name == n then return s end end end
		S = byname; local v = $2
		if math.type(v) == 'float' and v == math.floor(v) then v = math.tointeger(v) end
		print(tostring(v))"
}
