# t_https.sh - issue 12's listener as a runtime and an admin would meet
# it: -o icp_listen serves POST /icp/heartbeat over HTTPS with a
# self-signed certificate made once beside the database; curl registers
# a runtime that the mount shows at once; refusals come with ICP's status
# codes; the HTTP layer answers 404, 405 and 413 by itself; keep-alive,
# a slow client, a client that holds its connection through an unmount,
# garbage thrown at the port, and a port already taken.

ICP_TOKEN=${ICP_TOKEN:-build/tests/icp-token}
case $ICP_TOKEN in /*) ;; *) ICP_TOKEN=$REPO/$ICP_TOKEN ;; esac

# mi RUNTIME_ID NAME [ENV [PROJECT [COMPONENT]]]: the full heartbeat a
# Micro Integrator sends (tests/fixtures/mi-full-heartbeat.json, built
# from ICPHeartBeatComponent.java) as runtime NAME of RUNTIME_ID.
mi() {
	jq -c --arg id "$1" --arg n "$2" --arg e "${3:-prod}" \
		--arg p "${4:-shop}" --arg c "${5:-orders}" \
		'.runtimeId = $id | .runtime = $n | .environment = $e |
		 .project = $p | .component = $c' \
		"$REPO/tests/fixtures/mi-full-heartbeat.json"
}
ID1=00000000-0000-4000-8000-000000000001
ID2=00000000-0000-4000-8000-000000000002

# hpost PATH BODY [CURL ARGS...]: POSTs BODY to PATH over HTTPS as a
# runtime would, with the bearer token MI makes from $SECRET (none when
# $SECRET is empty); $OUT is "STATUS BODY" of the reply.
hpost() {
	local path=$1 body=$2 code auth=()

	shift 2
	[ -z "${SECRET:-}" ] || auth=(-H "$("$ICP_TOKEN" -m -H "$SECRET")")
	code=$(curl -sS --cacert "$CERT" -H 'Content-Type: application/json' \
		"${auth[@]}" --data-binary "$body" -o "$WORK/reply" \
		-w '%{http_code}' "$@" \
		"https://localhost:$PORT$path" 2>"$WORK/curl.err")
	RC=$?
	OUT="$code $(cat "$WORK/reply" 2>/dev/null)$(cat "$WORK/curl.err")"
	rm -f "$WORK/reply"
}

# A secret for orders-eu-1 in prod, in $SECRET.
make_secret() {
	mkdir -p environments/prod
	touch environments/prod/secrets/"${1:-orders-eu-1}"
	SECRET=$(secret_of environments/prod/secrets/"${1:-orders-eu-1}")
}

fingerprint() {
	openssl x509 -in "$1" -noout -fingerprint -sha256
}

test_https_registers_a_runtime() {
	listen_remount
	# the pair made beside the database (on PostgreSQL, the test's own)
	if ! on_pg; then
		run grep -c "made a self-signed TLS certificate for localhost, 127.0.0.1, ::1 and this host's name: $CERT (SHA-256 " "$LOG"
		expect "1"
		run stat -c '%a %n' "$DB.tls.key" "$CERT"
		expect "600 $DB.tls.key
644 $CERT"
	fi
	make_secret
	hpost /icp/heartbeat "$(mi $ID1 orders-eu-1)"
	expect_has '201 {"acknowledged":true,"fullHeartbeatRequired":false,"commands":[],"supportedHeartbeatFields":['
	run cat environments/prod/runtimes/orders-eu-1/status environments/prod/runtimes/orders-eu-1/platform environments/prod/runtimes/orders-eu-1/id
	expect "RUNNING
WSO2 Micro Integrator 4.4.0
$ID1"
	run ls environments/prod/secrets projects/shop/integrations/orders/runtimes/prod
	expect "environments/prod/secrets:

projects/shop/integrations/orders/runtimes/prod:
orders-eu-1"
	# the reply's type
	run curl -sS -D - -o /dev/null --cacert "$CERT" -H "$("$ICP_TOKEN" -H "$SECRET")" --data-binary "$(mi $ID1 orders-eu-1)" "https://localhost:$PORT/icp/heartbeat"
	expect_has "HTTP/1.1 201 Created"
	expect_has "Content-Type: application/json"
	# the certificate names 127.0.0.1 too; without trusting it, curl
	# refuses, as a client with verification should
	hpost /icp/heartbeat "$(mi $ID1 orders-eu-1)" --resolve "localhost:$PORT:127.0.0.1"
	expect_has "201 {\"acknowledged\":true"
	run curl -sS -o /dev/null --data-binary x "https://localhost:$PORT/icp/heartbeat"
	expect_has "curl: (60) SSL certificate problem: self-signed certificate"
}

# A change made over HTTPS reaches the kernel's caches as one made
# through MOUNT/heartbeat does: with the default cache timeout (60 s),
# `cat status` shows RUNNING right after the heartbeat that made it so.
test_https_heartbeat_reaches_the_cache() {
	listen_remount
	make_secret
	hpost /icp/heartbeat "$(mi $ID1 orders-eu-1)"
	cd environments/prod/runtimes/orders-eu-1 || return
	echo stop > ctl
	run cat status
	expect "STOPPING"
	echo start > ctl
	run cat status
	expect "STARTING"
	run stat -c %s status
	expect "9"
	# MI takes no commands (ICP drives it through its management API)
	hpost /icp/heartbeat "$(mi $ID1 orders-eu-1)"
	expect_has '201 {"acknowledged":true,"fullHeartbeatRequired":false,"commands":[]'
	run cat status
	expect "RUNNING"
	run stat -c %s status
	expect "8"
	run jq -r .status runtime.json
	expect "RUNNING"
}

# Every refusal answers ICP's status and body (runtime_service.bal) and
# changes nothing; a delta heartbeat and a command result are served as
# ICP serves them.
test_https_refusals() {
	local good other hash
	listen_remount
	make_secret
	hpost /icp/heartbeat "$(mi $ID1 orders-eu-1)"
	expect_has "201 "
	good=$SECRET
	# no token, or another scheme: 401
	SECRET='' hpost /icp/heartbeat "$(mi $ID2 orders-eu-2)"
	expect '401 {"acknowledged":false,"error":true,"message":"Missing or malformed Authorization header"}'
	SECRET='' hpost /icp/heartbeat "$(mi $ID2 orders-eu-2)" -H 'Authorization: Basic eDp5'
	expect '401 {"acknowledged":false,"error":true,"message":"Missing or malformed Authorization header"}'
	# a key id nobody issued: 400, as ICP answers it
	SECRET="deadbeef.${good#*.}" hpost /icp/heartbeat "$(mi $ID2 orders-eu-2)"
	expect '400 {"acknowledged":false,"error":true,"message":"Unknown key ID '"'"'deadbeef'"'"'"}'
	# the key id of the secret, signed with other material: 401
	other=$(printf '%s' "${good#*.}" | tr 'A-Za-z' 'B-ZAb-za')
	SECRET="${good%%.*}.$other" hpost /icp/heartbeat "$(mi $ID2 orders-eu-2)"
	expect_has '401 {"acknowledged":false,"error":true,"message":"Invalid or expired token: '
	# the key is bound to prod: a heartbeat naming dev is 409
	mkdir environments/dev
	hpost /icp/heartbeat "$(mi $ID2 orders-eu-2 dev)"
	expect_has '409 {"acknowledged":false,"error":true,"message":"'
	run ls environments/prod/runtimes environments/dev/runtimes
	expect "environments/dev/runtimes:

environments/prod/runtimes:
orders-eu-1"
	run grep -c '^runtimefs: https: POST /icp/heartbeat: 40[019]: ' "$LOG"
	expect "5"
	# what the HTTP layer answers by itself: 405 (with Allow), 404
	run curl -sS -i --cacert "$CERT" "https://localhost:$PORT/icp/heartbeat"
	expect_has "HTTP/1.1 405 Method Not Allowed"
	expect_has "Allow: POST"
	expect_has '{"message":"/icp/heartbeat takes POST, not GET"}'
	hpost /icp/nothing '{}'
	expect '404 {"message":"no resource /icp/nothing"}'
	hpost / '{}'
	expect '404 {"message":"no resource /"}'
	# a delta with the hash of the last full heartbeat: alive, nothing
	# more wanted; with another hash, or from a runtime never heard of:
	# send the full one
	hash=$(jq -r .runtimeHash "$REPO/tests/fixtures/mi-full-heartbeat.json")
	hpost /icp/deltaHeartbeat '{"heartbeatVersion":"v1.0","runtimeId":"'$ID1'","runtimeHash":"'"$hash"'","timestamp":[1764000010,0.25]}'
	expect_has '201 {"acknowledged":true,"fullHeartbeatRequired":false,'
	hpost /icp/deltaHeartbeat '{"heartbeatVersion":"v1.0","runtimeId":"'$ID1'","runtimeHash":"other","timestamp":[1764000010,0.25]}'
	expect_has '201 {"acknowledged":true,"fullHeartbeatRequired":true,'
	hpost /icp/deltaHeartbeat '{"heartbeatVersion":"v1.0","runtimeId":"'$ID2'","runtimeHash":"'"$hash"'","timestamp":[1764000010,0.25]}'
	expect_has '"fullHeartbeatRequired":true,'
	# a command result is taken (ICP answers 202 even for a command it
	# does not know)
	hpost /icp/commandResult '{"runtimeId":"'$ID1'","commandId":"00000000-0000-4000-8000-0000000000ff","status":"COMPLETED","httpStatus":200,"body":{}}'
	expect '202 {"accepted":true}'
}

# A body past 8 MiB is refused before it is sent (curl waits for 100
# Continue and gets 413 instead); a large one under it is read whole.
test_https_body_limit() {
	listen_remount
	head -c $((8 * 1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' > "$WORK/big"
	run curl -sS -o "$WORK/reply" -w '%{http_code} %{size_upload}\n' --cacert "$CERT" --data-binary @"$WORK/big" "https://localhost:$PORT/icp/heartbeat"
	expect "413 0"
	run cat "$WORK/reply"
	expect '{"message":"a body is at most 8388608 bytes, not 8388609"}'
	# chunked, without a length: read and dropped, then 413
	run curl -sS -o /dev/null -w '%{http_code}\n' --cacert "$CERT" -H 'Transfer-Encoding: chunked' --data-binary @"$WORK/big" "https://localhost:$PORT/icp/heartbeat"
	expect "413"
	# 3 MiB of blanks around a heartbeat are read whole and taken (an MI
	# with 200 APIs sends about 72 KB)
	make_secret
	{ head -c $((3 * 1024 * 1024)) /dev/zero | tr '\0' ' '; mi $ID1 orders-eu-1; } > "$WORK/padded"
	run curl -sS -o /dev/null -w '%{http_code}\n' --cacert "$CERT" -H "$("$ICP_TOKEN" -m -H "$SECRET")" --data-binary @"$WORK/padded" "https://localhost:$PORT/icp/heartbeat"
	expect '201'
	run cat environments/prod/runtimes/orders-eu-1/status
	expect 'RUNNING'
	rm -f "$WORK/big" "$WORK/padded"
}

# Several heartbeats on one kept-alive connection: one connect, then
# none.
test_https_keep_alive() {
	listen_remount
	make_secret
	mi $ID1 orders-eu-1 > "$WORK/body"
	run curl -sS -o /dev/null -o /dev/null -o /dev/null -o /dev/null -w '%{http_code} %{num_connects} %{http_version}\n' --cacert "$CERT" -H "$("$ICP_TOKEN" -m -H "$SECRET")" --data-binary @"$WORK/body" "https://localhost:$PORT/icp/heartbeat" "https://localhost:$PORT/icp/heartbeat" "https://localhost:$PORT/icp/heartbeat" "https://localhost:$PORT/icp/heartbeat"
	expect "201 1 1.1
201 0 1.1
201 0 1.1
201 0 1.1"
}

# The Ballerina client's default is HTTP/2; over TLS it offers h2 and
# http/1.1 by ALPN and takes what the server picks: http/1.1.  Over
# plain HTTP it asks to upgrade to h2c and goes on in HTTP/1.1 when the
# server does not switch.
test_https_http_version() {
	listen_remount
	make_secret
	run curl -sS -v --http2 --cacert "$CERT" -H "$("$ICP_TOKEN" -H "$SECRET")" --data-binary "$(mi $ID1 orders-eu-1)" "https://localhost:$PORT/icp/heartbeat"
	expect_has "ALPN: offers h2,http/1.1"
	expect_has "ALPN: server accepted http/1.1"
	expect_has "< HTTP/1.1 201 Created"
	expect_has '{"acknowledged":true'
	remount -o "icp_listen=127.0.0.1:$PORT,icp_plain"
	run curl -sS -v --http2 -H "$("$ICP_TOKEN" -H "$SECRET")" --data-binary "$(mi $ID1 orders-eu-1)" "http://127.0.0.1:$PORT/icp/heartbeat"
	expect_has "> Upgrade: h2c"
	expect_has "< HTTP/1.1 201 Created"
	expect_has '{"acknowledged":true'
	# plain HTTP makes no certificate, and TLS is not spoken
	run curl -sS -o /dev/null --cacert "$CERT" --data-binary x "https://localhost:$PORT/icp/heartbeat"
	expect_rc 35
}

# The pair is made once: a remount serves the same certificate (the one
# in the file), and says nothing of making one.
test_https_certificate_kept() {
	sqlite_only "the self-signed pair is made beside a database file" && return 0
	listen_remount
	local fp
	fp=$(fingerprint "$CERT")
	remount -o "icp_listen=127.0.0.1:$PORT"
	run fingerprint "$CERT"
	expect "$fp"
	run grep -c "made a self-signed TLS certificate" "$LOG"
	expect "1"
	run bash -c "openssl s_client -connect 127.0.0.1:$PORT -servername localhost </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256"
	expect "$fp"
	# a key that others may read is refused, with what fixes it
	cd / && unmount_fs
	chmod 644 "$DB.tls.key"
	run timeout 5 "$RUNTIMEFS" --db "$DB" -f -o "icp_listen=127.0.0.1:$PORT" "$MNT"
	expect "runtimefs: icp_listen: the TLS key $DB.tls.key may be read or written by group or others (mode 0644): chmod 600 $DB.tls.key"
	expect_rc 1
	chmod 600 "$DB.tls.key"
	mount_fs
}

# tls_cert and tls_key name a pair of one's own; both or neither.
test_https_given_certificate() {
	# (on PostgreSQL every listener test runs on a pair given this way)
	sqlite_only "checks that no pair is made beside a database file" && return 0
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
		-addext subjectAltName=DNS:localhost -keyout "$WORK/k.pem" \
		-out "$WORK/c.pem" 2>/dev/null
	PORT=$(free_port)
	CERT=$WORK/c.pem
	remount -o "icp_listen=127.0.0.1:$PORT,tls_cert=$WORK/c.pem,tls_key=$WORK/k.pem"
	make_secret
	hpost /icp/heartbeat "$(mi $ID1 orders-eu-1)"
	expect_has '201 {"acknowledged":true'
	run ls "$DB.tls.crt" "$DB.tls.key"
	expect_rc 2
	cd / && unmount_fs
	run timeout 5 "$RUNTIMEFS" --db "$DB" -f -o "icp_listen=127.0.0.1:$PORT,tls_cert=$WORK/c.pem" "$MNT"
	expect "runtimefs: give both tls_cert and tls_key, or neither for a self-signed pair"
	expect_rc 1
	run timeout 5 "$RUNTIMEFS" --db "$DB" -f -o "tls_cert=$WORK/c.pem,tls_key=$WORK/k.pem" "$MNT"
	expect "runtimefs: tls_cert, tls_key and icp_plain go with icp_listen"
	expect_rc 1
	openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/other.pem" 2>/dev/null
	run timeout 5 "$RUNTIMEFS" --db "$DB" -f -o "icp_listen=127.0.0.1:$PORT,tls_cert=$WORK/c.pem,tls_key=$WORK/other.pem" "$MNT"
	expect_has "runtimefs: icp_listen: the TLS certificate $WORK/c.pem with the key $WORK/other.pem: "
	expect_rc 1
	run timeout 5 "$RUNTIMEFS" --db "$DB" -f -o "icp_listen=127.0.0.1:$PORT,tls_cert=$WORK/none.pem,tls_key=$WORK/k.pem" "$MNT"
	expect "runtimefs: icp_listen: $WORK/none.pem: No such file or directory"
	expect_rc 1
	run mountpoint -q "$MNT"
	expect_rc 32
	mount_fs
}

# snippet_urls FILE: the server URL lines of a secret's snippet, with
# the table each is in.
snippet_urls() {
	awk '/^\[/ { t = $0 } /^(serverUrl|icp_url)/ { print t " " $0 }' "$1"
}

# The secrets' snippets give runtimes the URL icp_listen advertises
# (serverUrl for the bridge's Config.toml, icp_url for MI's
# deployment.toml): the address as given, this host's name for every
# address, http:// with icp_plain, the port chosen for port 0, or
# -o icp_url as given (less a final '/'); no URL line without either.
test_https_snippet_url() {
	local s host
	listen_remount
	make_secret
	run cat environments/prod/secrets/orders-eu-1
	expect "# Ballerina integration (default profile): add to Config.toml
[wso2.icp.runtime.bridge]
serverUrl = \"https://127.0.0.1:$PORT\"
environment = \"prod\"
project = \"<project name>\"
integration = \"<integration name>\"
runtime = \"<unique runtime name>\"
secret = \"$SECRET\"

# WSO2 Micro Integrator: add to conf/deployment.toml
[icp_config]
enabled = true
icp_url = \"https://127.0.0.1:$PORT\"
environment = \"prod\"
project = \"<project name>\"
integration = \"<integration name>\"
runtime = \"<unique runtime name>\"
secret = \"$SECRET\""
	# two lines: serverUrl = "https://127.0.0.1:PORT", icp_url = "..."
	s=$(( 534 + 33 + ${#PORT} + 31 + ${#PORT} ))
	run stat -c %s environments/prod/secrets/orders-eu-1
	expect "$s"
	# at integration level too
	mkdir -p projects/shop/integrations/orders/secrets/prod
	touch projects/shop/integrations/orders/secrets/prod/scoped
	run snippet_urls projects/shop/integrations/orders/secrets/prod/scoped
	expect "[wso2.icp.runtime.bridge] serverUrl = \"https://127.0.0.1:$PORT\"
[icp_config] icp_url = \"https://127.0.0.1:$PORT\""
	# every address: this host's name, which the certificate carries
	host=$(hostname)
	PORT=$(free_port)
	remount -o "icp_listen=*:$PORT$(tls_args)"
	run snippet_urls environments/prod/secrets/orders-eu-1
	expect "[wso2.icp.runtime.bridge] serverUrl = \"https://$host:$PORT\"
[icp_config] icp_url = \"https://$host:$PORT\""
	remount -o "icp_listen=0.0.0.0:$PORT,icp_plain"
	run snippet_urls environments/prod/secrets/orders-eu-1
	expect "[wso2.icp.runtime.bridge] serverUrl = \"http://$host:$PORT\"
[icp_config] icp_url = \"http://$host:$PORT\""
	remount -o "icp_listen=[::1]:$PORT$(tls_args)"
	run snippet_urls environments/prod/secrets/orders-eu-1
	expect "[wso2.icp.runtime.bridge] serverUrl = \"https://[::1]:$PORT\"
[icp_config] icp_url = \"https://[::1]:$PORT\""
	# port 0: the port the listener took
	remount -o "icp_listen=localhost:0$(tls_args)"
	run snippet_urls environments/prod/secrets/orders-eu-1
	expect_has "serverUrl = \"https://localhost:"
	PORT=$(sed -n 's/^serverUrl = "https:\/\/localhost:\([0-9]*\)"$/\1/p' environments/prod/secrets/orders-eu-1)
	run test "$PORT" -gt 0
	expect_rc 0
	run curl -sS -o /dev/null -w '%{http_code}' --cacert "$(cert_file)" -d '{}' "https://localhost:$PORT/icp/heartbeat"
	expect "401"
	# behind a proxy: icp_url as given, without its final '/'
	remount -o "icp_listen=127.0.0.1:$(free_port),icp_url=https://icp.example.com/$(tls_args)"
	run snippet_urls environments/prod/secrets/orders-eu-1
	expect "[wso2.icp.runtime.bridge] serverUrl = \"https://icp.example.com\"
[icp_config] icp_url = \"https://icp.example.com\""
	# icp_url alone: another daemon of the same database listens
	remount -o "icp_url=https://icp.example.com:8443/runtimes"
	run snippet_urls environments/prod/secrets/orders-eu-1
	expect "[wso2.icp.runtime.bridge] serverUrl = \"https://icp.example.com:8443/runtimes\"
[icp_config] icp_url = \"https://icp.example.com:8443/runtimes\""
	# neither: no URL line, the snippet as before
	remount
	run snippet_urls environments/prod/secrets/orders-eu-1
	expect ""
	run stat -c %s environments/prod/secrets/orders-eu-1
	expect "534"
	cd / && unmount_fs
	for url in ftp://icp.example.com icp.example.com https:// 'https:///x' \
			'https://a b' 'https://a"b' "https://$(printf 'a%.0s' $(seq 520))"; do
		run timeout 5 "$RUNTIMEFS" --db "$DB" -f -o "icp_url=$url" "$MNT"
		expect "runtimefs: icp_url must be an https:// or http:// URL with a host, of at most 512 characters, without blanks, '\"' or '\\'"
		expect_rc 1
	done
	run mountpoint -q "$MNT"
	expect_rc 32
	mount_fs
}

# A port already taken keeps the daemon from mounting, and says why.
test_https_address_in_use() {
	local port holder
	port=$(free_port)
	# (from /: a process whose directory is in the mount keeps it busy)
	(cd / && exec python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen()
print("listening", flush=True); time.sleep(60)' "$port") > "$WORK/holder" &
	holder=$!
	for _ in $(seq 50); do grep -q listening "$WORK/holder" && break; sleep 0.1; done
	cd / && unmount_fs
	run rtfs -t 5 --db "$DB" -f -o "icp_listen=127.0.0.1:$port$(tls_args)" "$MNT"
	expect_has "runtimefs: icp_listen: cannot listen on 127.0.0.1:$port: Address already in use"
	expect_rc 1
	run mountpoint -q "$MNT"
	expect_rc 32
	run rtfs -t 5 --db "$DB" -f -o "icp_listen=127.0.0.1$(tls_args)" "$MNT"
	expect "runtimefs: icp_listen: cannot listen on '127.0.0.1': give ADDR:PORT, [IPV6ADDR]:PORT or *:PORT, PORT 0 to 65535"
	expect_rc 1
	run rtfs -t 5 --db "$DB" -f -o "icp_listen=127.0.0.1:$port,restore$(tls_args)" "$MNT"
	expect "runtimefs: a restore mount serves no icp_listen"
	expect_rc 1
	# PostgreSQL has no place beside the database for a pair of its own
	if on_pg; then
		run rtfs -t 5 --db "$DB" -f -o "icp_listen=127.0.0.1:$port" "$MNT"
		expect "runtimefs: icp_listen: a PostgreSQL database has no place for a TLS certificate beside it: give -o tls_cert=FILE,tls_key=FILE"
		expect_rc 1
	fi
	kill "$holder"
	wait "$holder" 2>/dev/null
	PORT=$port CERT=$(cert_file)
	mount_fs -o "icp_listen=127.0.0.1:$PORT$(tls_args)"
	cd "$MNT" || return
	hpost /icp/heartbeat '{}'
	expect '401 {"acknowledged":false,"error":true,"message":"Missing or malformed Authorization header"}'
}

# A client that sends half a request and waits, one that connects and
# says nothing, one that keeps an answered connection open: none of them
# slows the others, and the daemon unmounts at once with them connected.
test_https_slow_clients_and_unmount() {
	listen_remount
	make_secret
	# (from /: a process whose directory is in the mount keeps it busy)
	(cd / && exec python3 - "$CERT" "$PORT") > "$WORK/slow" 2>&1 <<'EOF' &
import socket, ssl, sys, time
cert, port = sys.argv[1], int(sys.argv[2])
ctx = ssl.create_default_context(cafile=cert)
def tls():
    return ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)),
                           server_hostname="localhost")
held = []
for i in range(4):
    t = tls()
    t.sendall(b"POST /icp/heartbeat HTTP/1.1\r\nHost: localhost\r\n"
              b"Content-Length: 1000\r\n\r\n{\"secret\"")
    held.append(t)
for i in range(4):
    held.append(socket.create_connection(("127.0.0.1", port)))
t = tls()
t.sendall(b"POST /icp/deltaHeartbeat HTTP/1.1\r\nHost: localhost\r\n"
          b"Content-Length: 2\r\n\r\n{}")
t.recv(4096)
held.append(t)
print("holding", flush=True)
time.sleep(60)
EOF
	local slow=$! t0 t1
	for _ in $(seq 100); do grep -q holding "$WORK/slow" && break; sleep 0.1; done
	run cat "$WORK/slow"
	expect "holding"
	t0=$(date +%s%N)
	for _ in 1 2 3 4 5; do
		hpost /icp/heartbeat "$(mi $ID1 orders-eu-1)"
		expect_has "201 "
	done
	t1=$(date +%s%N)
	[ $(( (t1 - t0) / 1000000 )) -lt 3000 ] || fail "5 heartbeats took $(( (t1 - t0) / 1000000 )) ms beside slow clients"
	cd / || return
	t0=$(date +%s%N)
	unmount_fs
	t1=$(date +%s%N)
	[ $(( (t1 - t0) / 1000000 )) -lt 5000 ] || fail "the unmount took $(( (t1 - t0) / 1000000 )) ms with clients connected"
	kill "$slow"
	wait "$slow" 2>/dev/null
	mount_fs
}

# Garbage at the port: random bytes, ClientHellos cut short, plain HTTP
# to the TLS port, headers of 200 KB over TLS, a body that never ends,
# many connections dropped at once.  The daemon goes on serving (and,
# built with the sanitizers, says nothing: run.sh reads its log).
test_https_hostile_clients() {
	listen_remount
	make_secret
	run python3 - "$PORT" <<'EOF'
import random, socket, ssl, sys
port = int(sys.argv[1])
addr = ("127.0.0.1", port)
random.seed(12)
def raw(data, read=True):
    s = socket.create_connection(addr, timeout=0.3)
    try:
        s.sendall(data)
        if read:
            s.recv(100)
    except OSError:
        pass
    s.close()
for i in range(40):
    raw(random.randbytes(random.randint(1, 6000)))
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
o = ctx.wrap_bio(inc, out, server_hostname="localhost")
try:
    o.do_handshake()
except ssl.SSLWantReadError:
    pass
hello = out.read()
for cut in range(1, len(hello), 13):
    raw(hello[:cut], read=False)
    raw(hello[:cut] + random.randbytes(50))
raw(b"POST /icp/heartbeat HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
def tls():
    t = ctx.wrap_socket(socket.create_connection(addr, timeout=5),
                        server_hostname="localhost")
    t.settimeout(0.5)
    return t
for req in (b"POST /icp/heartbeat HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 200000 + b"\r\n\r\n",
            b"POST /" + b"a" * 100000 + b" HTTP/1.1\r\n\r\n",
            b"POST /icp/heartbeat HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"POST /icp/heartbeat HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
            b"\x00\x01\x02 / HTTP/9.9\r\n\r\n"):
    t = tls()
    try:
        t.sendall(req)
        t.recv(100)
    except OSError:
        pass
    t.close()
socks = [socket.create_connection(addr) for i in range(200)]
for s in socks:
    s.close()
print("done")
EOF
	expect "done"
	hpost /icp/heartbeat "$(mi $ID1 orders-eu-1)"
	expect_has '201 {"acknowledged":true'
	run cat environments/prod/runtimes/orders-eu-1/status
	expect "RUNNING"
}
