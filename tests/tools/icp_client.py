#!/usr/bin/env python3
"""icp_client.py - a WSO2 ICP 2.x runtime, emulated from the real clients'
sources, for tests and for trying a mount by hand.

    icp_client.py bi|mi SNIPPET [options]

SNIPPET is a secret's file from the mount (or a Config.toml /
deployment.toml holding its table): `bi` reads `[wso2.icp.runtime.bridge]`
as the Ballerina bridge reads its configurables, `mi` reads `[icp_config]`
as Micro Integrator reads deployment.toml.  It then heartbeats as that
client does and prints one line per request:

    KIND STATUS ack=BOOL full=BOOL [commands=N] [applied=ACTION:NAME:RESULT,...]
    KIND STATUS stopped: MESSAGE           (MI on 400/401/409; BI's first)
    KIND error: WHAT                       (a connection that failed)

KIND is `full` or `delta`; a BI full heartbeat adds
`listeners=NAME:STATE,...`, the states it reported.  Exit 0 after its
ticks, 2 when the client stopped for good (as MI does on 400, 401 or 409,
and as the bridge does when its first heartbeat fails), 1 on a bad
snippet or option.

What each part is built from (read at the commits named; every claim is
in /work/notes/icp-wire.md with its lines):

  BI  wso2/icp-runtime-bridge at 55d3e5d0 (0.2.0-SNAPSHOT):
      ballerina/config.bal       the configurables and their defaults
      ballerina/security.bal     parseSecretWithKeyId(), generateJwtToken()
      ballerina/icp_client.bal   IcpClient: one http:Client (kept
                                 connection), secureSocket {cert, enable:
                                 enableSSL}, retryConfig {2, 5, 2.0}
      ballerina/main.bal         init(): sendInitialHeartbeat(), fatal if it
                                 fails; HeartbeatJob.execute(): full while
                                 fullHeartbeatRequired, else delta;
                                 handleControlCommands(): START/STOP of a
                                 listener, SET_LOGGER_LEVEL
      ballerina/status_monitor.bal  getHeartbeat(), getDeltaHeartbeat(),
                                 calculateSimpleHash(), getTryItHost()
      ballerina/types.bal        Heartbeat, HeartbeatForHash, ListenerDetail,
                                 ServiceDetail, MainDetail, Node, ...
      native/.../Listeners.java  getDetailedListener(): an http:Listener's
                                 fields; Artifacts.java stop/startListener-
                                 Artifact(): LISTENER_STATES_MAP
      ballerina-platform/module-ballerina-jwt jwt_issuer.bal
                                 prepareHeader(), preparePayload()
  MI  wso2/product-integrator-mi at 6c17429e, .../initializer/dashboard/:
      ICPHeartBeatComponent.java invokeICPHeartbeatExecutorService()
                                 (first tick after 5 s), sendDeltaHeartbeat(),
                                 sendFullHeartbeat(), sendHeartbeatRequest()
                                 (400/401/409 stop the service), build-
                                 FullHeartbeatPayload(), collectArtifacts(),
                                 collectRestApis(), calculateHash(),
                                 createBallerinaTimestamp(), generateOrGet-
                                 CachedJwtToken(), createHttpClient()
                                 (ssl_verify), getICPApiHostname/Port()
      HMACJWTTokenGenerator.java getKeyId(), getKeyMaterial(), generateToken()
      Constants.java             icp_config.* keys and defaults

Python's standard library only.
"""
import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import ssl
import sys
import time
import tomllib
import urllib.parse
import uuid


def out(line):
    print(line, flush=True)


# -- JSON as each client prints it ---------------------------------------

def ballerina_json(v):
    """Ballerina's toJsonString(): members "k":v joined by ", " (the form
    model/jwt.c's tests reproduce of jwt_issuer.bal's tokens)."""
    return json.dumps(v, ensure_ascii=False, separators=(", ", ":"))


def gson_json(v):
    """Gson's JsonObject.toString(): compact, non-ASCII as is."""
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def hs256(header, payload, key_text):
    """The HMAC key is the key material's text as bytes: the bridge's
    jwt:HS256 with config: keyMaterial (jwt_issuer.bal hmacJwtAssertion():
    secret.toBytes()), MI's new MACSigner(keyMaterial.getBytes(UTF_8))."""
    signing = b64url(header.encode()) + "." + b64url(payload.encode())
    mac = hmac.new(key_text.encode(), signing.encode(), hashlib.sha256)
    return signing + "." + b64url(mac.digest())


def utc_now():
    """time:Utc, [seconds, fraction]: the bridge's time:utcNow(), MI's
    createBallerinaTimestamp() ([getEpochSecond(), getNano() / 1e9])."""
    ns = time.time_ns()
    return [ns // 1_000_000_000, (ns % 1_000_000_000) / 1e9]


def md5_b64(text):
    """calculateSimpleHash(): crypto:hashMd5(content.toBytes()).toBase64();
    calculateHash(): Base64 of MD5 of payload.toString() in UTF-8."""
    return base64.b64encode(hashlib.md5(text.encode()).digest()).decode()


# -- HTTP ----------------------------------------------------------------

class Transport:
    """POSTs JSON to the server URL.  keep=True holds one connection, as
    Ballerina's http:Client pools its connections; keep=False opens one
    per request, as MI's `try (CloseableHttpClient client =
    createHttpClient())` does."""

    def __init__(self, url, context, keep, headers, timeout):
        u = urllib.parse.urlsplit(url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError("server URL %r is not http(s)://HOST[:PORT]" % url)
        self.scheme, self.host = u.scheme, u.hostname
        self.port = u.port or (443 if u.scheme == "https" else 80)
        self.base = u.path.rstrip("/")
        self.context, self.keep = context, keep
        self.headers, self.timeout = headers, timeout
        self.conn = None

    def _connect(self):
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.host, self.port,
                    context=self.context, timeout=self.timeout)
        return http.client.HTTPConnection(self.host, self.port,
                timeout=self.timeout)

    def post(self, path, body, token):
        """(status, parsed JSON body or None, raw body); raises OSError
        and http.client errors for a connection that failed."""
        data = body.encode()
        headers = dict(self.headers)
        headers["Authorization"] = "Bearer " + token
        conn = self.conn if self.keep and self.conn else self._connect()
        try:
            conn.request("POST", self.base + path, body=data, headers=headers)
            r = conn.getresponse()
            raw = r.read()
            status = r.status
        except Exception:
            conn.close()
            self.conn = None
            raise
        if self.keep and not r.will_close:
            self.conn = conn
        else:
            conn.close()
            self.conn = None
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return status, parsed, raw


def tls_context(verify, cafile):
    if not verify:
        # BI with enableSSL = false ("Enable SSL validation" off: the
        # HTTP/2 client's trust-all engine); MI with ssl_verify = false
        # (trust-all context and NoopHostnameVerifier)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        # BI: enableSSL = true verifies against `cert`; MI: the JVM's
        # default trust store (SSLContexts.createDefault()), here the file
        # given as that store, with host name verification in both
        ctx = ssl.create_default_context(cafile=cafile)
    # both offer h2 first; libmicrohttpd picks http/1.1 (README, "Which
    # HTTP the clients speak"); MI's Apache HttpClient 4 offers none
    return ctx


# -- the secret ----------------------------------------------------------

def split_secret(secret, style):
    """BI parseSecretWithKeyId(): split at the first '.' when it is past
    the start; MI getKeyId()/getKeyMaterial(): also only when it is before
    the end.  Both refuse material under 32 bytes."""
    i = secret.find(".")
    ok = i > 0 if style == "bi" else 0 < i < len(secret) - 1
    kid, material = (secret[:i], secret[i + 1:]) if ok else ("", secret)
    if len(material.encode()) < 32:
        raise ValueError("Key material insufficient for HS256: %d bytes"
                         " (requires 32 bytes)" % len(material.encode()))
    return kid, material


def runtime_id(args, default_file):
    """The bridge's initializeRuntimeId(): the file's trimmed content when
    1 to 100 characters, else a new UUID v4 written there.  MI's
    ICPStartupUtils.initRuntimeId(): the file's content when it parses as
    a UUID, else a new one.  --runtime-id takes the place of the file."""
    if args.runtime_id:
        return args.runtime_id
    path = args.runtime_id_file or default_file
    try:
        with open(path) as f:
            text = f.read().strip()
        if args.mode == "bi" and 0 < len(text) <= 100:
            return text
        if args.mode == "mi":
            return str(uuid.UUID(text))
    except (OSError, ValueError):
        pass
    rid = str(uuid.uuid4())
    with open(path, "w") as f:
        f.write(rid)
    return rid


# -- BI: wso2/icp-runtime-bridge -----------------------------------------

class Bridge:
    def __init__(self, args, conf):
        self.args = args
        # config.bal
        self.server_url = conf.get("serverUrl", "https://localhost:9445")
        self.interval = conf.get("heartbeatInterval", 10)
        self.cert = conf.get("cert", "")
        self.enable_ssl = conf.get("enableSSL", False)
        self.issuer = conf.get("jwtIssuer", "icp-runtime-jwt-issuer")
        self.audience = conf.get("jwtAudience", "icp-server")
        self.expiry = int(conf.get("jwtExpiryTimeSeconds", 3600))
        self.runtime = conf.get("runtime")           # string? runtime = ()
        self.environment = conf.get("environment", "Dev")
        self.integration = conf.get("integration", "default_integration")
        self.project = conf.get("project", "default_project")
        self.runtime_host_url = conf.get("runtimeHostUrl", "http://localhost")
        if "secret" not in conf:
            raise ValueError("the required configurable 'secret' is missing")
        self.kid, self.material = split_secret(conf["secret"], "bi")
        self.runtime_id = runtime_id(args, conf.get("runtimeIdFile",
                                                    ".icp_runtime_id"))
        # the listeners and services of the integration this bridge is in:
        # http:Listeners named by --listeners, one service on the first
        self.listeners = {n: True for n in args.listeners.split(",") if n}
        self.log_levels = {"root": "INFO"}
        ctx = tls_context(self.enable_ssl, self.cert or args.cacert) \
            if self.server_url.startswith("https") else None
        self.http = Transport(self.server_url, ctx, True,
                              {"Content-Type": "application/json",
                               "User-Agent": "ballerina"}, args.timeout)

    def token(self):
        """generateJwtToken(), a new one per request: jwt_issuer.bal
        prepareHeader() {alg, typ, kid} and preparePayload() {exp, iat,
        nbf, iss, aud, customClaims}."""
        now = int(time.time())
        header = ballerina_json({"alg": "HS256", "typ": "JWT", "kid": self.kid})
        payload = ballerina_json({"exp": now + self.expiry, "iat": now,
                                  "nbf": now, "iss": self.issuer,
                                  "aud": self.audience,
                                  "scope": "runtime_agent"})
        return hs256(header, payload, self.material)

    def listener_details(self):
        """getListenerDetails(): Listeners.getDetailedListener() of an
        http:Listener: name, package (of the listener's type), state from
        LISTENER_STATES_MAP, protocol, port, and from its inferredConfig
        httpVersion, host, timeout, requestLimits (module-ballerina-http's
        defaults)."""
        return [{"name": n, "package": "ballerina/http:2",
                 "state": "enabled" if up else "disabled",
                 "protocol": "HTTP", "port": 9090 + i, "httpVersion": "2.0",
                 "host": "0.0.0.0", "timeout": 60,
                 "requestLimits": {"maxUriLength": 4096,
                                   "maxHeaderSize": 8192,
                                   "maxEntityBodySize": -1}}
                for i, (n, up) in enumerate(self.listeners.items())]

    def service_details(self):
        """getServiceDetails(): ServiceDetail {name, basePath, package,
        listeners, resources, state}."""
        first = next(iter(self.listeners), None)
        return [{"name": "OrderService", "basePath": "/orders",
                 "package": "wso2/%s:1.0.0" % self.args.package,
                 "listeners": [{"name": first}] if first else [],
                 "resources": [{"methods": ["GET"], "url": "/"},
                               {"methods": ["POST"], "url": "/"}],
                 "state": "enabled"}]

    def get_heartbeat(self, supported):
        """status_monitor.bal getHeartbeat(): HeartbeatForHash as its
        mapping constructor orders it (heartbeatVersion, the record's
        default, first), `runtime` added after when configured; its
        toJsonString() hashed; then the Heartbeat with runtimeHash and
        timestamp.  No `version` (never set), no workflowCallbackUrl
        (enableWorkflowManagement is false), tryItHost once the server
        lists it in supportedHeartbeatFields, openApiDefinitions only when
        there are some (none here)."""
        h = {"heartbeatVersion": "v1.0", "runtimeId": self.runtime_id,
             "runtimeType": "BI", "status": "RUNNING",
             "nodeInfo": {"platformName": "ballerina",
                          "platformVersion": "2201.13.2",
                          "ballerinaHome": "/usr/lib/ballerina/distributions/ballerina-2201.13.2",
                          "osName": "Linux", "osVersion": os.uname().release},
             "environment": self.environment, "project": self.project,
             "component": self.integration,
             "artifacts": {"listeners": self.listener_details(),
                           "services": self.service_details(),
                           "main": {"packageOrg": "wso2",
                                    "packageName": self.args.package,
                                    "packageVersion": "1.0.0"}},
             "logLevels": dict(self.log_levels)}
        if "tryItHost" in supported:
            # getTryItHost(): runtimeHostUrl's host, no scheme, no port
            auth = self.runtime_host_url.strip().rstrip("/").split("://")[-1]
            h["tryItHost"] = auth.split("/")[0].split(":")[0]
        if isinstance(self.runtime, str):
            h["runtime"] = self.runtime
        runtime_hash = md5_b64(ballerina_json(h))
        full = {k: h[k] for k in ("runtimeId", "runtimeType", "status",
                                  "nodeInfo", "environment", "project",
                                  "component", "artifacts")}
        full["heartbeatVersion"] = "v1.0"
        full["runtimeHash"] = runtime_hash
        full["timestamp"] = utc_now()
        full["logLevels"] = h["logLevels"]
        if "tryItHost" in h:
            full["tryItHost"] = h["tryItHost"]
        if "runtime" in h:
            full["runtime"] = h["runtime"]
        return full

    def send(self, kind, body):
        """IcpClient sendHeartbeat() / sendDeltaHeartbeat(): a non-2xx
        status or a body not of HeartbeatResponse is an error (the
        client's target type), so is acknowledged: false.  Transport
        errors are retried twice, 5 s then 10 s apart (retryConfig)."""
        path = "/icp/heartbeat" if kind == "full" else "/icp/deltaHeartbeat"
        for attempt in range(3):
            try:
                status, reply, raw = self.http.post(path, ballerina_json(body),
                                                    self.token())
                break
            except (OSError, http.client.HTTPException) as e:
                if attempt == 2 or self.args.no_retry:
                    return None, None, "error: %s" % e
                time.sleep(5 * 2.0 ** attempt)
        if not 200 <= status < 300 or not isinstance(reply, dict) or \
                not isinstance(reply.get("acknowledged"), bool) or \
                any(not isinstance(c, dict) or c.get("action") not in
                    ("START", "STOP", "SET_LOGGER_LEVEL")
                    for c in reply.get("commands", [])):
            # a ControlAction outside the bridge's enum fails the binding
            return status, None, raw.decode(errors="replace").strip()
        return status, reply, None

    def line(self, kind, body, status, reply, err, applied=None):
        parts = [kind, str(status) if status else ""]
        if reply is None:
            parts.append(err if status is None else "refused: " + err)
        else:
            parts.append("ack=%s full=%s commands=%d" % (
                str(reply["acknowledged"]).lower(),
                str(reply.get("fullHeartbeatRequired", False)).lower(),
                len(reply.get("commands", []))))
        if kind == "full":
            parts.append("listeners=" + ",".join(
                "%s:%s" % (l["name"], l["state"])
                for l in body["artifacts"]["listeners"]))
        if applied:
            parts.append("applied=" + ",".join(applied))
        out(" ".join(p for p in parts if p))

    def handle_commands(self, commands):
        """HeartbeatJob.handleControlCommands(): START/STOP the listener
        named by targetArtifact.name (startListenerArtifact() /
        stopListenerArtifact(): false for a listener it does not have),
        SET_LOGGER_LEVEL from the payload; the heartbeat is rebuilt when
        one succeeded (its hash moves; the next delta carries it).  The
        bridge posts no command result for these (status kept locally)."""
        applied, changed = [], False
        for c in commands:
            name = (c.get("targetArtifact") or {}).get("name", "")
            action = c["action"]
            ok = False
            if action in ("START", "STOP"):
                if name in self.listeners:
                    self.listeners[name] = action == "START"
                    ok = True
            else:
                try:
                    p = json.loads(c.get("payload") or "")
                    pkg = (p.get("componentPackage") or "").strip()
                    lid = pkg + ":" + p["componentName"] if pkg else p["componentName"]
                    if lid in self.log_levels:
                        self.log_levels[lid] = p["logLevel"]
                        ok = True
                except (ValueError, KeyError, TypeError, AttributeError):
                    pass
            changed |= ok
            applied.append("%s:%s:%s" % (action, name,
                                         "COMPLETED" if ok else "FAILED"))
        return applied, changed

    def run(self):
        # main.bal init(): the first full heartbeat; any failure ends the
        # agent (logged, the job never starts)
        body = self.get_heartbeat([])
        status, reply, err = self.send("full", body)
        if reply is None or not reply["acknowledged"]:
            self.line("full", body, status, reply,
                      err or "not acknowledged")
            out("stopped: Failed initial heartbeat registration with ICP server")
            return 2
        self.line("full", body, status, reply, err)
        supported = reply.get("supportedHeartbeatFields") or []
        # HeartbeatJob.init(); fullHeartbeatRequired starts true
        heartbeat = self.get_heartbeat(supported)
        full_required = True
        for tick in ticks(self.args, self.interval, first_delay=0):
            if full_required:
                heartbeat = self.get_heartbeat(supported)
                kind, body = "full", heartbeat
            else:
                # getDeltaHeartbeat(): the last built heartbeat's hash
                kind = "delta"
                body = {"runtimeId": heartbeat["runtimeId"],
                        "heartbeatVersion": "v1.0",
                        "runtimeHash": heartbeat["runtimeHash"],
                        "timestamp": utc_now()}
            status, reply, err = self.send(kind, body)
            applied = None
            if reply is not None and reply["acknowledged"]:
                full_required = reply.get("fullHeartbeatRequired") or False
                new = reply.get("supportedHeartbeatFields") or []
                if new != supported:
                    full_required = True
                supported = new
                applied, changed = self.handle_commands(reply.get("commands", []))
                if changed:
                    heartbeat = self.get_heartbeat(supported)
            self.line(kind, body, status, reply, err, applied)
            tick_done(self.args, tick)
        return 0


# -- MI: ICPHeartBeatComponent --------------------------------------------

class MicroIntegrator:
    def __init__(self, args, conf):
        self.args = args
        # Constants.java ICP_CONFIG_* and DEFAULT_*
        self.icp_url = str(conf.get("icp_url", "https://localhost:9445"))
        self.environment = conf.get("environment", "production")
        self.project = conf.get("project", "default")
        self.integration = conf.get("integration", "default")
        self.runtime = conf.get("runtime")            # getRuntimeName()
        self.interval = conf.get("heartbeat_interval", 10)
        self.ssl_verify = str(conf.get("ssl_verify", "true")).lower() != "false"
        self.issuer = conf.get("jwt_issuer", "icp-runtime-jwt-issuer")
        self.audience = conf.get("jwt_audience", "icp-server")
        self.scope = conf.get("jwt_scope", "runtime_agent")
        self.expiry = int(conf.get("jwt_expiry_seconds", 3600))
        if not str(conf.get("secret", "")).strip():
            raise ValueError("Missing required configuration:"
                             " 'icp_config.secret'")
        self.kid, self.material = split_secret(conf["secret"], "mi")
        self.runtime_id = runtime_id(args, ".icp_runtime_id")
        self.cached, self.cached_expiry = None, 0
        ctx = tls_context(self.ssl_verify, args.cacert) \
            if self.icp_url.startswith("https") else None
        self.http = Transport(self.icp_url, ctx, False,
                              {"Accept": "application/json",
                               "Content-type": "application/json",
                               "User-Agent": "Apache-HttpClient/4.5.14 (Java/21.0.5)"},
                              args.timeout)

    def token(self):
        """generateOrGetCachedJwtToken(): reused until five minutes before
        it expires; HMACJWTTokenGenerator.generateToken(): header kid,
        alg (the form model/jwt.c's JWT_STYLE_MI reproduces), claims iss,
        aud, exp, iat, scope; no nbf."""
        now_ms = int(time.time() * 1000)
        if self.cached and now_ms < self.cached_expiry - 300000:
            return self.cached
        now = now_ms // 1000
        header = gson_json({"kid": self.kid, "alg": "HS256"})
        payload = gson_json({"iss": self.issuer, "aud": self.audience,
                             "exp": now + self.expiry, "iat": now,
                             "scope": self.scope})
        self.cached = hs256(header, payload, self.material)
        self.cached_expiry = now_ms + self.expiry * 1000
        return self.cached

    def collect_rest_apis(self):
        """collectRestApis(): name, context, version, url, urls, type,
        tracing, statistics, resources [{path, methods}] per API;
        --apis N of them with --resources R each."""
        base = ["http://localhost:8290", "https://localhost:8253"]
        apis = []
        for i in range(self.args.apis):
            ctx = "/api%d" % i
            apis.append({"name": "API%d" % i, "context": ctx, "version": "",
                         "url": base[0] + ctx, "urls": [b + ctx for b in base],
                         "type": "API", "tracing": "disabled",
                         "statistics": "disabled",
                         "resources": [{"path": "/items/%d/{id}" % r,
                                        "methods": "GET,POST"}
                                       for r in range(self.args.resources)]})
        return apis

    def build_full_payload(self, include_timestamp):
        """buildFullHeartbeatPayload(): the members in its order; the
        hash (calculateHash()) of the payload without timestamp and
        nodeInfo's four memory figures, added after; then timestamp."""
        p = {"heartbeatVersion": "v1.0", "runtimeId": self.runtime_id}
        if self.runtime is not None:
            p["runtime"] = self.runtime
        p.update({"runtimeType": "MI", "status": "RUNNING",
                  "environment": self.environment, "project": self.project,
                  "component": self.integration, "version": "4.4.0",
                  "runtimeHostname": "localhost", "runtimePort": "9164"})
        used = 335544320 + int(time.time()) % 1000 * 4096
        p["nodeInfo"] = {"platformName": "WSO2 Micro Integrator",
                         "platformVersion": "4.4.0",
                         "platformHome": "/opt/wso2mi-4.4.0",
                         "osName": "Linux", "osVersion": os.uname().release,
                         "osArch": "amd64", "javaVersion": "21.0.5",
                         "carbonHome": "/opt/wso2mi-4.4.0",
                         "javaVendor": "Eclipse Adoptium",
                         "totalMemory": 536870912,
                         "freeMemory": 536870912 - used,
                         "maxMemory": 2147483648, "usedMemory": used}
        # collectArtifacts(): the fifteen lists, in its order
        p["artifacts"] = {
            "apis": self.collect_rest_apis(),
            "proxyServices": [{"name": "RefundProxy", "type": "ProxyService",
                               "state": "enabled", "tracing": "disabled",
                               "statistics": "disabled",
                               "eprs": ["http://localhost:8290/services/RefundProxy"]}],
            "endpoints": [], "inboundEndpoints": [], "sequences": [],
            "tasks": [], "templates": [], "messageStores": [],
            "messageProcessors": [], "localEntries": [], "dataServices": [],
            "carbonApps": [], "dataSources": [], "connectors": [],
            "registryResources": []}
        copy = json.loads(gson_json(p))
        for k in ("freeMemory", "usedMemory", "maxMemory", "totalMemory"):
            copy["nodeInfo"].pop(k)
        p["runtimeHash"] = md5_b64(gson_json(copy))
        if include_timestamp:
            p["timestamp"] = utc_now()
        return p

    def send(self, kind, body):
        """sendHeartbeatRequest(): 400, 401 and 409 stop the heartbeat
        service for good; any other status's body is read as JSON and
        used; a connection error is logged, the next tick tries again."""
        path = "/icp/heartbeat" if kind == "full" else "/icp/deltaHeartbeat"
        try:
            status, reply, raw = self.http.post(path, gson_json(body),
                                                self.token())
        except (OSError, http.client.HTTPException) as e:
            out("%s error: %s" % (kind, e))
            return None, False
        if status in (400, 401, 409):
            msg = reply.get("message") if isinstance(reply, dict) else None
            out("%s %d stopped: %s" % (kind, status,
                msg or raw.decode(errors="replace").strip()))
            return None, True
        if not isinstance(reply, dict):
            out("%s %d refused: %s" % (kind, status,
                raw.decode(errors="replace").strip()))
            return None, False
        out("%s %d ack=%s full=%s commands=%d" % (
            kind, status, str(reply.get("acknowledged", False)).lower(),
            str(reply.get("fullHeartbeatRequired", False)).lower(),
            len(reply.get("commands") or [])))
        return reply, False

    def run(self):
        # invokeICPHeartbeatExecutorService(): scheduleAtFixedRate(task,
        # 5, interval): a delta every tick (sendDeltaHeartbeat()), a full
        # one at once when that reply asks for it; `commands` are ignored
        for tick in ticks(self.args, self.interval, first_delay=5):
            delta = {"heartbeatVersion": "v1.0", "runtimeId": self.runtime_id,
                     "runtimeHash": self.build_full_payload(False)["runtimeHash"],
                     "timestamp": utc_now()}
            reply, stop = self.send("delta", delta)
            if not stop and reply and reply.get("fullHeartbeatRequired") is True:
                body = self.build_full_payload(True)
                if self.args.dump_full:
                    with open(self.args.dump_full, "w") as f:
                        f.write(gson_json(body))
                reply, stop = self.send("full", body)
            if stop:
                return 2
            tick_done(self.args, tick)
        return 0


# -- ticks ---------------------------------------------------------------

def ticks(args, interval, first_delay):
    """--ticks N ticks, --interval seconds apart (the client's own interval
    when not given), the first after --first-delay (the client's: BI's job
    at once, MI's after 5 s).  --step: each tick waits for a line on
    standard input instead (EOF ends), and `tick N` is printed after it."""
    every = args.interval if args.interval is not None else float(interval)
    delay = args.first_delay if args.first_delay is not None else first_delay
    n = 0
    while args.ticks is None or n < args.ticks:
        if args.step:
            if not sys.stdin.readline():
                return
        else:
            time.sleep(delay if n == 0 else every)
        n += 1
        yield n


def tick_done(args, n):
    if args.step:
        out("tick %d" % n)


def read_snippet(path, mode):
    with open(path, "rb") as f:
        doc = tomllib.load(f)
    if mode == "bi":
        conf = doc.get("wso2", {}).get("icp", {}).get("runtime", {}).get("bridge")
        table = "[wso2.icp.runtime.bridge]"
    else:
        conf = doc.get("icp_config")
        table = "[icp_config]"
    if not isinstance(conf, dict):
        raise ValueError("%s has no %s table" % (path, table))
    if mode == "mi" and conf.get("enabled") is not True:
        # isICPConfigured(): icp_config.enabled
        raise ValueError("%s: [icp_config] is not enabled" % path)
    return conf


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=("bi", "mi"))
    ap.add_argument("snippet", help="a secret's file, or a Config.toml /"
                    " deployment.toml holding its table")
    ap.add_argument("--runtime-id", help="the runtimeId (else the client's"
                    " .icp_runtime_id file, made if missing)")
    ap.add_argument("--runtime-id-file", help="that file elsewhere")
    ap.add_argument("--name", help="the `runtime` line's value, as if"
                    " edited in the snippet")
    ap.add_argument("--no-name", action="store_true", help="as if the"
                    " `runtime` line were deleted")
    ap.add_argument("--ticks", type=int, help="how many ticks (forever)")
    ap.add_argument("--interval", type=float, help="seconds between ticks"
                    " (heartbeatInterval / heartbeat_interval, 10)")
    ap.add_argument("--first-delay", type=float, help="seconds before the"
                    " first tick (BI 0, MI 5)")
    ap.add_argument("--step", action="store_true", help="tick on each line"
                    " read from standard input; print `tick N` after it")
    ap.add_argument("--cacert", help="the certificate to verify the server"
                    " with (MI's trust store; BI's `cert` when unset)")
    ap.add_argument("--listeners", default="httpListener,adminListener",
                    help="BI: its http:Listeners")
    ap.add_argument("--package", default="order_api", help="BI: its package")
    ap.add_argument("--apis", type=int, default=1, help="MI: how many APIs")
    ap.add_argument("--resources", type=int, default=2,
                    help="MI: resources per API")
    ap.add_argument("--dump-full", metavar="FILE", help="MI: write each"
                    " full heartbeat's body there, as sent")
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--no-retry", action="store_true",
                    help="BI: no retry of a failed connection")
    args = ap.parse_args()
    try:
        conf = read_snippet(args.snippet, args.mode)
        if args.name is not None:
            conf["runtime"] = args.name
        if args.no_name:
            conf.pop("runtime", None)
        client = (Bridge if args.mode == "bi" else MicroIntegrator)(args, conf)
    except (OSError, ValueError, tomllib.TOMLDecodeError) as e:
        print("icp_client.py: %s" % e, file=sys.stderr)
        return 1
    try:
        return client.run()
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
