#!/usr/bin/env bash
# Makes a capture of SIP over TLS between two programs that are not PIClab's: openssl s_client
# sends a MESSAGE to openssl s_server, which answers 200 OK; dumpcap captures on lo; both write
# their TLS secrets with -keylogfile. Usage: openssl-sip.sh DIR NET (NET like 127.77.48):
# writes DIR/capture.pcapng and DIR/keys.log (client and server key logs together).
set -eu
dir=$1 net=$2
cli=$net.50 srv=$net.51
cd "$dir"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout srv.key \
	-out srv.crt -subj /CN=sip.fabrikam.example -days 2 2>/dev/null
dumpcap -q -i lo -f "host $srv and port 5061" -w capture.pcapng 2>dumpcap.log &
cap=$!
for i in $(seq 50); do [ -s capture.pcapng ] && break; sleep 0.1; done
sleep 0.5
mkfifo srv.in cli.in
openssl s_server -quiet -naccept 1 -accept "$srv:5061" -cert srv.crt -key srv.key \
	-keylogfile srv.keys <srv.in >srv.out 2>srv.err &
sp=$!
exec 3>srv.in
for i in $(seq 50); do ss -ltn | grep -q "$srv:5061" && break; sleep 0.1; done
openssl s_client -quiet -no_ign_eof -bind "$cli:0" -connect "$srv:5061" -keylogfile cli.keys \
	<cli.in >cli.out 2>cli.err &
cp=$!
exec 4>cli.in
body="Hello from outside"
printf 'MESSAGE sip:alice@fabrikam.example SIP/2.0\r\nVia: SIP/2.0/TLS %s:5061;branch=z9hG4bK-os1\r\nMax-Forwards: 70\r\nFrom: <sip:bob@aol.example>;tag=os-1\r\nTo: <sip:alice@fabrikam.example>\r\nCall-ID: openssl-1@%s\r\nCSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s' \
	"$cli" "$cli" "${#body}" "$body" >&4
for i in $(seq 100); do grep -q "^CSeq: 1 MESSAGE" srv.out 2>/dev/null && break; sleep 0.1; done
printf 'SIP/2.0 200 OK\r\nVia: SIP/2.0/TLS %s:5061;branch=z9hG4bK-os1\r\nFrom: <sip:bob@aol.example>;tag=os-1\r\nTo: <sip:alice@fabrikam.example>;tag=os-2\r\nCall-ID: openssl-1@%s\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n' \
	"$cli" "$cli" >&3
for i in $(seq 100); do grep -q "^SIP/2.0 200 OK" cli.out 2>/dev/null && break; sleep 0.1; done
exec 4>&- 3>&-
# the client ends at the end of its input, the server after its one connection
for i in $(seq 50); do kill -0 $cp 2>/dev/null || kill -0 $sp 2>/dev/null || break; sleep 0.1; done
kill $cp $sp 2>/dev/null || true
sleep 0.5
kill $cap 2>/dev/null || true
wait $cap 2>/dev/null || true
cat cli.keys srv.keys >keys.log
