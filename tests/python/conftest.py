"""End-to-end fixtures: a real `openlift serve` process and real AWS clients.

The suite builds nothing. It runs the binary named by `OPENLIFT_BIN` (default
`$CARGO_TARGET_DIR/debug/openlift`, or `target/debug/openlift` in the repository),
binds it to port 0 on 127.0.0.1 with a temporary data dir, learns the address from
the `ready` log line, and stops it with SIGTERM at the end, checking it exits cleanly.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import threading
import uuid
from pathlib import Path
from typing import Iterator

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest

REPO = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
ACCOUNT_ID = "000000000000"
# Wait this long for a server to report `ready` or to exit; generous for a cold CI machine.
START_TIMEOUT = 60
STOP_TIMEOUT = 30
TEST_ACCESS_KEY_ID = "AKIAOPENLIFTPYTEST01"
TEST_SECRET_ACCESS_KEY = "pytestSecretKey/" + uuid.uuid4().hex
DEFAULT_TEST_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test"

ANSI = re.compile(r"\x1b\[[0-9;]*m")
READY = re.compile(r"listening on http://([^\s,]+)\S*(?: and https://\S+)?,? ready")

# Nothing from the caller's AWS setup may leak into the clients: they get only
# endpoint_url, region_name and credentials, and the CLI gets its files explicitly.
for _name in list(os.environ):
    if _name.startswith("AWS_") or (
        _name.startswith("OPENLIFT_") and _name not in ("OPENLIFT_BIN", "OPENLIFT_TEST_DATABASE_URL")
    ):
        del os.environ[_name]
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull


def openlift_bin() -> Path:
    """The server binary under test."""
    if os.environ.get("OPENLIFT_BIN"):
        return Path(os.environ["OPENLIFT_BIN"])
    target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")
    return target / "debug" / "openlift"


def unique(prefix: str) -> str:
    """A name no other test uses."""
    return f"{prefix}{uuid.uuid4().hex[:12]}"


class Server:
    """One `openlift serve` process and everything it logged."""

    def __init__(self, data_dir: Path, *, credentials: tuple[str, str] | None = None, args: list[str] | None = None):
        self.data_dir = data_dir
        self.configured = credentials
        self.args = args or []
        self.proc: subprocess.Popen | None = None
        self.lines: list[str] = []
        self.address: str | None = None
        self._ready = threading.Event()
        self._reader: threading.Thread | None = None

    def start(self) -> "Server":
        binary = openlift_bin()
        if not binary.is_file():
            raise RuntimeError(f"openlift binary not found at {binary}; build it with `cargo build -p openlift` or set OPENLIFT_BIN")
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENLIFT_")}
        env["NO_COLOR"] = "1"
        env.setdefault("RUST_LOG", "info,sqlx=warn")
        if self.configured:
            env["OPENLIFT_ACCESS_KEY_ID"], env["OPENLIFT_SECRET_ACCESS_KEY"] = self.configured
        cmd = [str(binary), "serve", "--listen", "127.0.0.1:0", "--data-dir", str(self.data_dir), "--region", REGION]
        self.lines = []
        self.address = None
        self._ready.clear()
        self.proc = subprocess.Popen(cmd + self.args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
        self._reader = threading.Thread(target=self._read, args=(self.proc,), daemon=True)
        self._reader.start()
        if not self._ready.wait(START_TIMEOUT) or self.address is None:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError("openlift did not become ready:\n" + self.log)
        return self

    def _read(self, proc: subprocess.Popen) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = ANSI.sub("", line.rstrip("\n"))
            self.lines.append(line)
            match = READY.search(line)
            if match and self.address is None:
                self.address = match.group(1)
                self._ready.set()
        # The process ended: wake a start() still waiting so it fails at once.
        self._ready.set()

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    @property
    def endpoint(self) -> str:
        return f"http://{self.address}"

    @property
    def host(self) -> str:
        assert self.address
        return self.address

    def credentials(self) -> tuple[str, str]:
        """The access key pair the server accepts (configured, or read from the generated file)."""
        if self.configured:
            return self.configured
        values = {}
        for line in (self.data_dir / "credentials").read_text().splitlines():
            if "=" in line:
                key, value = line.split("=", 1)
                values[key.strip()] = value.strip()
        return values["aws_access_key_id"], values["aws_secret_access_key"]

    def client(self, *, access_key: str | None = None, secret: str | None = None, region: str = REGION, endpoint: str | None = None):
        ak, sk = self.credentials()
        return boto3.client(
            "gamelift",
            endpoint_url=endpoint or self.endpoint,
            region_name=region,
            aws_access_key_id=access_key or ak,
            aws_secret_access_key=secret or sk,
        )

    def stop(self) -> int:
        """SIGTERM, then wait for the exit; returns the exit status."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(STOP_TIMEOUT)
        if self._reader:
            self._reader.join(STOP_TIMEOUT)
        return code

    def kill(self) -> None:
        """SIGKILL: no chance to flush or shut down."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(STOP_TIMEOUT)
        if self._reader:
            self._reader.join(STOP_TIMEOUT)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def assert_clean_stop(server: Server) -> None:
    code = server.stop()
    assert code == 0, f"openlift exited with {code} after SIGTERM:\n{server.log}"
    assert "openlift stopped" in server.log, server.log


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[Server]:
    """The shared server, with credentials configured through the environment."""
    srv = Server(tmp_path_factory.mktemp("openlift"), credentials=(TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY)).start()
    yield srv
    assert_clean_stop(srv)


@pytest.fixture(scope="session")
def gl(server: Server):
    """A boto3 GameLift client for the shared server."""
    return server.client()


# ---------------------------------------------------------------- resource helpers


def make_location(gl, **kwargs) -> str:
    name = unique("custom-")
    gl.create_location(LocationName=name, **kwargs)
    return name


def make_fleet(gl, locations: list[str] | None = None, **kwargs) -> dict:
    """An Anywhere fleet in fresh (or the given) custom locations; returns its FleetAttributes."""
    if locations is None:
        locations = [make_location(gl)]
    kwargs.setdefault("Name", unique("fleet-"))
    out = gl.create_fleet(ComputeType="ANYWHERE", Locations=[{"Location": l} for l in locations], **kwargs)
    return out["FleetAttributes"]


@pytest.fixture
def location(gl) -> str:
    return make_location(gl)


@pytest.fixture
def fleet(gl, location) -> dict:
    """A fresh Anywhere fleet in a fresh location (`fleet['Location']` names it)."""
    attrs = make_fleet(gl, [location])
    return dict(attrs, Location=location)


def register(gl, fleet: dict, name: str | None = None, **kwargs) -> dict:
    kwargs.setdefault("IpAddress", "10.1.2.3")
    kwargs.setdefault("Location", fleet["Location"])
    return gl.register_compute(FleetId=fleet["FleetId"], ComputeName=name or unique("c-"), **kwargs)["Compute"]


# ---------------------------------------------------------------- raw HTTP


class Raw:
    """A parsed raw HTTP response."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def json(self) -> dict:
        return json.loads(self.body) if self.body else {}

    @property
    def code(self) -> str:
        """The error code as botocore derives it from `__type`."""
        kind = self.json.get("__type", "")
        return kind.split(":", 1)[0].rsplit("#", 1)[-1]

    @property
    def message(self) -> str:
        body = self.json
        return body.get("message") or body.get("Message") or ""


def send(
    server: Server,
    target: str | None,
    body: bytes | str | dict = b"{}",
    *,
    sign: bool = True,
    access_key: str | None = None,
    secret: str | None = None,
    region: str = REGION,
    service: str = "gamelift",
    path: str = "/",
    method: str = "POST",
    headers: dict[str, str | None] | None = None,
    after_sign=None,
) -> Raw:
    """Sends one request signed with botocore's own SigV4 signer (or unsigned); a header
    given as `None` is left out."""
    if isinstance(body, dict):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    hdrs = {"Content-Type": "application/x-amz-json-1.1"}
    if target is not None:
        hdrs["X-Amz-Target"] = target
    hdrs.update(headers or {})
    hdrs = {name: value for name, value in hdrs.items() if value is not None}
    request = botocore.awsrequest.AWSRequest(method=method, url=server.endpoint + path, data=body, headers=hdrs)
    if sign:
        ak, sk = server.credentials()
        creds = botocore.credentials.Credentials(access_key or ak, secret or sk)
        botocore.auth.SigV4Auth(creds, service, region).add_auth(request)
    out_headers = {k: v for k, v in request.headers.items()}
    if after_sign:
        body = after_sign(out_headers, body)
    conn = http.client.HTTPConnection(server.host, timeout=30)
    try:
        conn.request(method, path, body=body, headers=out_headers)
        response = conn.getresponse()
        data = response.read()
        return Raw(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    finally:
        conn.close()
