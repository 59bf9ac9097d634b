# t_icp_clients.sh - issue 12's "Done means", with clients made only from
# what the real ones do (tests/tools/icp_client.py: the bridge of a
# Ballerina runtime, `bi`, and Micro Integrator's ICPHeartBeatComponent,
# `mi`): each pastes a secret's file as it is, registers over HTTPS, shows
# up as a replica of its integration with its artifacts, goes OFFLINE
# when it stops; a BI listener is stopped from the mount; a restart with
# a new runtimeId replaces its OFFLINE predecessor; a body of several MiB;
# a slow client; a thousand connections.

EMU=$REPO/tests/tools/icp_client.py
ID1=00000000-0000-4000-8000-000000000001
ID2=00000000-0000-4000-8000-000000000002
ID3=00000000-0000-4000-8000-000000000003
ID4=00000000-0000-4000-8000-000000000004
ICP_TOKEN=${ICP_TOKEN:-build/tests/icp-token}
case $ICP_TOKEN in /*) ;; *) ICP_TOKEN=$REPO/$ICP_TOKEN ;; esac

# Remounts on the test clock with the listener on a free port ($PORT).
clock_listen_remount() {
	PORT=$(free_port)
	CERT=$(cert_file)
	clock_remount "icp_listen=127.0.0.1:$PORT${1:+,$1}$(tls_args)"
}

# paste_secret KIND INTEGRATION NAME: a secret scoped to shop's
# INTEGRATION in prod, of type KIND (MI or default), its file copied as
# it is to $WORK/NAME.toml, as a user pastes it into deployment.toml or
# Config.toml.
paste_secret() {
	mkdir -p environments/prod projects/shop/integrations/"$2"/secrets/prod
	echo "$1" > projects/shop/integrations/"$2"/type
	touch projects/shop/integrations/"$2"/secrets/prod/"$3"
	cp projects/shop/integrations/"$2"/secrets/prod/"$3" "$WORK/$3.toml"
}

# mi ARGS / bi ARGS: the emulators, MI trusting the daemon's certificate
# (ssl_verify left true), ticking at once.
mi() {
	python3 "$EMU" mi --cacert "$CERT" --interval 0 --first-delay 0 "$@"
}
bi() {
	python3 "$EMU" bi --interval 0 "$@"
}

statuses() {
	local r
	for r in "$@"; do
		echo "$r $(cat environments/prod/runtimes/"$r"/status)"
	done
}

# Two MI replicas with one secret and a BI runtime register over HTTPS
# with the pasted snippets, are listed under their integrations with
# their artifacts, and go OFFLINE once they stop heartbeating.
test_clients_register_as_replicas() {
	clock_listen_remount
	paste_secret MI orders mi-secret
	paste_secret default order-api bi-secret
	run grep -c "^icp_url = \"https://127.0.0.1:$PORT\"$" "$WORK/mi-secret.toml"
	expect "1"
	# MI: a delta first each tick; the unknown runtime is asked for a full one
	run mi "$WORK/mi-secret.toml" --runtime-id $ID1 --name mi-1 --ticks 2
	expect "delta 201 ack=false full=true commands=0
full 201 ack=true full=false commands=0
delta 201 ack=true full=false commands=0"
	expect_rc 0
	run mi "$WORK/mi-secret.toml" --runtime-id $ID2 --name mi-2 --ticks 1
	expect "delta 201 ack=true full=true commands=0
full 201 ack=true full=false commands=0"
	# BI: the first full heartbeat in init(), then the job's full one
	# (tryItHost, now that the server listed it), then deltas
	run bi "$WORK/bi-secret.toml" --runtime-id $ID3 --name bi-1 --ticks 2
	expect "full 201 ack=true full=false commands=0 listeners=httpListener:enabled,adminListener:enabled
full 201 ack=true full=false commands=0 listeners=httpListener:enabled,adminListener:enabled
delta 201 ack=true full=false commands=0"
	expect_rc 0
	run ls projects/shop/integrations/orders/runtimes/prod projects/shop/integrations/order-api/runtimes/prod
	expect "projects/shop/integrations/order-api/runtimes/prod:
bi-1

projects/shop/integrations/orders/runtimes/prod:
mi-1
mi-2"
	run cat environments/prod/runtimes/mi-1/id environments/prod/runtimes/mi-2/id environments/prod/runtimes/bi-1/id environments/prod/runtimes/mi-1/type environments/prod/runtimes/bi-1/type
	expect "$ID1
$ID2
$ID3
MI
default"
	# one secret, both replicas
	run cat environments/prod/runtimes/mi-1/secret environments/prod/runtimes/mi-2/secret
	expect "$(sed -n 's/^secret = "\([0-9a-f]*\)\..*/\1/p' "$WORK/mi-secret.toml" | head -1)
$(sed -n 's/^secret = "\([0-9a-f]*\)\..*/\1/p' "$WORK/mi-secret.toml" | head -1)"
	run ls environments/prod/runtimes/mi-1/artifacts environments/prod/runtimes/mi-1/artifacts/apis environments/prod/runtimes/bi-1/artifacts environments/prod/runtimes/bi-1/artifacts/listeners
	expect "environments/prod/runtimes/bi-1/artifacts:
listeners
main
services

environments/prod/runtimes/bi-1/artifacts/listeners:
adminListener
httpListener

environments/prod/runtimes/mi-1/artifacts:
apis
proxy-services

environments/prod/runtimes/mi-1/artifacts/apis:
API0"
	run jq -c '{name, state, protocol, port}' environments/prod/runtimes/bi-1/artifacts/listeners/httpListener/artifact.json
	expect '{"name":"httpListener","state":"enabled","protocol":"HTTP","port":9090}'
	run jq -c '[.tryItHost, .logLevels, .nodeInfo.platformName]' environments/prod/runtimes/bi-1/reported.json
	expect '["localhost",{"root":"INFO"},"ballerina"]'
	run jq -c '[.runtimeHostname, .runtimePort, .nodeInfo.javaVendor]' environments/prod/runtimes/mi-2/reported.json
	expect '["localhost","9164","Eclipse Adoptium"]'
	run statuses mi-1 mi-2 bi-1
	expect "mi-1 RUNNING
mi-2 RUNNING
bi-1 RUNNING"
	advance 31
	run statuses mi-1 mi-2 bi-1
	expect "mi-1 OFFLINE
mi-2 OFFLINE
bi-1 OFFLINE"
}

# step: one tick of the emulator running as coprocess EM (--step); $OUT
# is what it printed for it, up to its `tick N` line (not kept).
step() {
	local line
	OUT=
	echo >&"${EM[1]}"
	while IFS= read -t 30 -r line <&"${EM[0]}"; do
		case $line in tick\ *) return 0 ;; esac
		OUT+=${OUT:+$'\n'}$line
	done
	OUT+="${OUT:+$'\n'}(no tick line within 30 s)"
}

# The emulator's ending: its standard input closed, its exit code in $RC.
stop_emulator() {
	local pid=$EM_PID
	exec {EM[1]}>&-
	wait "$pid"
	RC=$?
}

# `echo stop > .../artifacts/listeners/L/ctl` reaches a BI runtime in its
# next reply; the bridge stops that listener, its next delta carries the
# new hash, the server asks for a full heartbeat, and that one reports
# the listener disabled.  `start` the same way back.
test_bi_listener_stopped_from_the_mount() {
	local first L=environments/prod/runtimes/bi-1/artifacts/listeners
	clock_listen_remount
	paste_secret default order-api bi-secret
	coproc EM { python3 "$EMU" bi "$WORK/bi-secret.toml" --runtime-id $ID3 --name bi-1 --step; }
	EM_PID=$!
	IFS= read -t 30 -r first <&"${EM[0]}"
	OUT=$first
	expect "full 201 ack=true full=false commands=0 listeners=httpListener:enabled,adminListener:enabled"
	step
	expect "full 201 ack=true full=false commands=0 listeners=httpListener:enabled,adminListener:enabled"
	step
	expect "delta 201 ack=true full=false commands=0"
	sh "echo stop > $L/httpListener/ctl"
	expect_rc 0
	step
	expect "delta 201 ack=true full=false commands=1 applied=STOP:httpListener:COMPLETED"
	# delta -> full: the hash moved with the listener's state
	step
	expect "delta 201 ack=true full=true commands=0"
	step
	expect "full 201 ack=true full=false commands=0 listeners=httpListener:disabled,adminListener:enabled"
	run jq -r .state $L/httpListener/artifact.json $L/adminListener/artifact.json
	expect "disabled
enabled"
	step
	expect "delta 201 ack=true full=false commands=0"
	# a command is carried once
	sh "echo start > $L/httpListener/ctl"
	step
	expect "delta 201 ack=true full=false commands=1 applied=START:httpListener:COMPLETED"
	step
	expect "delta 201 ack=true full=true commands=0"
	step
	expect "full 201 ack=true full=false commands=0 listeners=httpListener:enabled,adminListener:enabled"
	run jq -r .state $L/httpListener/artifact.json
	expect "enabled"
	# the runtime's ctl stops every listener it reported
	sh "echo stop > environments/prod/runtimes/bi-1/ctl"
	step
	expect "delta 201 ack=true full=false commands=2 applied=STOP:adminListener:COMPLETED,STOP:httpListener:COMPLETED"
	step
	step
	expect "full 201 ack=true full=false commands=0 listeners=httpListener:disabled,adminListener:disabled"
	stop_emulator
	expect_rc 0
	run cat environments/prod/runtimes/bi-1/status
	expect "STOPPING"
	advance 31
	run cat environments/prod/runtimes/bi-1/status
	expect "STOPPED"
}

# A runtime that restarts with a new runtimeId under the same name takes
# the place of its OFFLINE predecessor (ICP's upsertRuntime()); while the
# name's holder is alive, a newcomer is named by its runtimeId.
test_restart_replaces_offline_predecessor() {
	clock_listen_remount
	paste_secret MI orders mi-secret
	run mi "$WORK/mi-secret.toml" --runtime-id $ID1 --name mi-1 --ticks 1
	expect_rc 0
	run mi "$WORK/mi-secret.toml" --runtime-id $ID2 --name mi-1 --ticks 1
	expect "delta 201 ack=true full=true commands=0
full 201 ack=true full=false commands=0"
	run ls environments/prod/runtimes
	expect "$ID2
mi-1"
	run cat environments/prod/runtimes/mi-1/id
	expect "$ID1"
	advance 31
	run statuses mi-1 $ID2
	expect "mi-1 OFFLINE
$ID2 OFFLINE"
	run mi "$WORK/mi-secret.toml" --runtime-id $ID4 --name mi-1 --ticks 1
	expect "delta 201 ack=true full=true commands=0
full 201 ack=true full=false commands=0"
	run ls environments/prod/runtimes projects/shop/integrations/orders/runtimes/prod
	expect "environments/prod/runtimes:
$ID2
mi-1

projects/shop/integrations/orders/runtimes/prod:
$ID2
mi-1"
	run cat environments/prod/runtimes/mi-1/id environments/prod/runtimes/mi-1/status
	expect "$ID4
RUNNING"
	# BI without the `runtime` line: named by its runtimeId
	paste_secret default order-api bi-secret
	run bi "$WORK/bi-secret.toml" --runtime-id $ID3 --no-name --ticks 1
	expect_rc 0
	run cat environments/prod/runtimes/$ID3/type
	expect "default"
}

# MI stops heartbeating for good on 400, 401 and 409
# (sendHeartbeatRequest()); the bridge gives up when its first
# heartbeat fails (init()).
test_refused_clients_stop() {
	local kid
	clock_listen_remount
	paste_secret MI orders mi-secret
	paste_secret default order-api bi-secret
	run mi "$WORK/mi-secret.toml" --runtime-id $ID1 --name mi-1 --ticks 1
	expect_rc 0
	kid=$(cat environments/prod/runtimes/mi-1/secret)
	rm environments/prod/runtimes/mi-1/secret
	run mi "$WORK/mi-secret.toml" --runtime-id $ID1 --name mi-1 --ticks 3
	expect "delta 400 stopped: Unknown key ID '$kid'"
	expect_rc 2
	run cat environments/prod/runtimes/mi-1/status
	expect "OFFLINE"
	# a secret of another environment: 409 on the full heartbeat
	mkdir environments/stage
	cp "$WORK/bi-secret.toml" "$WORK/bi-stage.toml"
	sed -i 's/^environment = "prod"$/environment = "stage"/' "$WORK/bi-stage.toml"
	run bi "$WORK/bi-stage.toml" --runtime-id $ID3 --name bi-1 --ticks 3
	kid=$(sed -n 's/^secret = "\([0-9a-f]*\)\..*/\1/p' "$WORK/bi-secret.toml" | head -1)
	expect "full 409 refused: {\"acknowledged\":false,\"error\":true,\"message\":\"Environment mismatch: key ID '$kid' is bound to a different environment\"} listeners=httpListener:enabled,adminListener:enabled
stopped: Failed initial heartbeat registration with ICP server"
	expect_rc 2
	# a client that trusts no such certificate does not connect (MI
	# with ssl_verify left true and the certificate not imported)
	run python3 "$EMU" mi "$WORK/mi-secret.toml" --runtime-id $ID2 --ticks 1 --interval 0 --first-delay 0
	expect_has "delta error: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate"
	expect_rc 0
}

# An MI with 2000 APIs of 50 resources each sends a full heartbeat of
# several MiB (the listener takes 8 MiB, the model 16): taken whole, every
# API listed.
test_mi_body_of_several_mib() {
	clock_listen_remount
	paste_secret MI orders mi-secret
	run mi "$WORK/mi-secret.toml" --runtime-id $ID1 --name mi-1 --ticks 1 --apis 2000 --resources 50 --dump-full "$WORK/full.json"
	expect "delta 201 ack=false full=true commands=0
full 201 ack=true full=false commands=0"
	run python3 -c 'import os, sys; n = os.path.getsize(sys.argv[1]); print(n > 4 << 20 and n < 8 << 20)' "$WORK/full.json"
	expect "True"
	run bash -c 'ls environments/prod/runtimes/mi-1/artifacts/apis | wc -l'
	expect "2000"
	run jq -r '.resources | length' environments/prod/runtimes/mi-1/artifacts/apis/API1999/artifact.json
	expect "50"
	# the same again: a delta with its hash is enough
	run mi "$WORK/mi-secret.toml" --runtime-id $ID1 --name mi-1 --ticks 1 --apis 2000 --resources 50
	expect "delta 201 ack=true full=false commands=0"
}

# Clients that send their headers and part of a body, then nothing, hold
# connections, not the listener: more of them than it has threads, while
# both emulators register and heartbeat.
test_slow_clients_do_not_block_others() {
	clock_listen_remount
	paste_secret MI orders mi-secret
	paste_secret default order-api bi-secret
	cat >"$WORK/slow.py" <<'PY'
import socket, ssl, sys, time
port, auth = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=sys.argv[3])
held = []
for i in range(12):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)),
                        server_hostname="localhost")
    s.sendall(("POST /icp/heartbeat HTTP/1.1\r\nHost: localhost\r\n%s\r\n"
               "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
               '{"runtimeId": "' % auth).encode())
    held.append(s)
print("holding", len(held), flush=True)
sys.stdin.read()
PY
	coproc SLOW { python3 "$WORK/slow.py" "$PORT" "$("$ICP_TOKEN" -m -H "$(secret_of "$WORK/mi-secret.toml")")" "$CERT"; }
	local slow_pid=$! line
	IFS= read -t 30 -r line <&"${SLOW[0]}"
	OUT=$line
	expect "holding 12"
	run timeout 20 python3 "$EMU" mi "$WORK/mi-secret.toml" --cacert "$CERT" --interval 0 --first-delay 0 --runtime-id $ID1 --name mi-1 --ticks 3
	expect "delta 201 ack=false full=true commands=0
full 201 ack=true full=false commands=0
delta 201 ack=true full=false commands=0
delta 201 ack=true full=false commands=0"
	run timeout 20 python3 "$EMU" bi "$WORK/bi-secret.toml" --interval 0 --runtime-id $ID3 --name bi-1 --ticks 1
	expect_rc 0
	run cat environments/prod/runtimes/mi-1/status environments/prod/runtimes/bi-1/status
	expect "RUNNING
RUNNING"
	exec {SLOW[1]}>&-
	wait "$slow_pid"
}

# A thousand TLS connections at once from one address (the listener's
# per-address limit, README "Limits and timeouts"), each sending a
# heartbeat and keeping its connection: all answered, the 1001st from that
# address closed at once, and while they are all held an MI from another
# address registers and heartbeats, and every held connection is served
# again.
test_a_thousand_connections() {
	clock_listen_remount
	paste_secret MI orders mi-secret
	run mi "$WORK/mi-secret.toml" --runtime-id $ID1 --name mi-1 --ticks 1
	expect_rc 0
	cat >"$WORK/thousand.py" <<'PY'
import resource, socket, ssl, subprocess, sys
port, auth, emu, snippet, cert = sys.argv[1:6]
port = int(port)
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(4096, hard), hard))
ctx = ssl.create_default_context(cafile=cert)
body = b'{"heartbeatVersion":"v1.0","runtimeId":"00000000-0000-4000-8000-000000000001","runtimeHash":"x","timestamp":[1,0.5]}'
req = (("POST /icp/deltaHeartbeat HTTP/1.1\r\nHost: localhost\r\n%s\r\n"
        "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n")
       % (auth, len(body))).encode() + body

def connect():
    s = socket.create_connection(("127.0.0.1", port), timeout=60,
                                 source_address=("127.0.0.2", 0))
    return ctx.wrap_socket(s, server_hostname="localhost")

def served(conns):
    for c in conns:
        c.sendall(req)
    ok = 0
    for c in conns:
        f = c.makefile("rb")
        status = f.readline()
        length = 0
        while True:
            h = f.readline()
            if h in (b"\r\n", b""):
                break
            if h.lower().startswith(b"content-length:"):
                length = int(h.split(b":")[1])
        f.read(length)
        ok += status.startswith(b"HTTP/1.1 201 ")
    return ok

conns = [connect() for _ in range(1000)]
print("open", len(conns), flush=True)
print("answered 201:", served(conns), flush=True)
try:
    extra = connect()
    extra.settimeout(10)
    extra.sendall(req)
    print("1001st:", "closed" if not extra.recv(100) else "served")
except (OSError, ssl.SSLError):
    print("1001st: closed")
r = subprocess.run([sys.executable, emu, "mi", snippet, "--cacert", cert,
                    "--interval", "0", "--first-delay", "0", "--runtime-id",
                    "00000000-0000-4000-8000-000000000002", "--name", "mi-2",
                    "--ticks", "2"], capture_output=True, text=True, timeout=60)
print(r.stdout + r.stderr, end="", flush=True)
print("answered 201 again:", served(conns), flush=True)
PY
	run timeout 100 python3 "$WORK/thousand.py" "$PORT" "$("$ICP_TOKEN" -m -H "$(secret_of "$WORK/mi-secret.toml")")" "$EMU" "$WORK/mi-secret.toml" "$CERT"
	expect "open 1000
answered 201: 1000
1001st: closed
delta 201 ack=true full=true commands=0
full 201 ack=true full=false commands=0
delta 201 ack=true full=false commands=0
answered 201 again: 1000"
	run cat environments/prod/runtimes/mi-2/status
	expect "RUNNING"
}

# BI verifies the server only with enableSSL = true, against `cert`
# (icp_client.bal secureSocket {cert, enable}); a certificate that is not
# the daemon's fails its first heartbeat, which ends the bridge.
test_bi_verifies_with_enable_ssl() {
	clock_listen_remount
	paste_secret default order-api bi-secret
	sed -i "/^\[wso2.icp.runtime.bridge\]$/a enableSSL = true\ncert = \"$CERT\"" "$WORK/bi-secret.toml"
	run bi "$WORK/bi-secret.toml" --runtime-id $ID3 --name bi-1 --ticks 1
	expect "full 201 ack=true full=false commands=0 listeners=httpListener:enabled,adminListener:enabled
full 201 ack=true full=false commands=0 listeners=httpListener:enabled,adminListener:enabled"
	expect_rc 0
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
		-addext subjectAltName=IP:127.0.0.1 -keyout "$WORK/k.pem" -out "$WORK/other.pem" 2>/dev/null
	sed -i "s|^cert = .*|cert = \"$WORK/other.pem\"|" "$WORK/bi-secret.toml"
	run bi "$WORK/bi-secret.toml" --runtime-id $ID3 --name bi-1 --ticks 1 --no-retry
	expect_has "full error: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate"
	expect_has "stopped: Failed initial heartbeat registration with ICP server"
	expect_rc 2
}
