"""`openlift dev`, driven the way the README tells a newcomer to use it.

Start `openlift dev`, export the credentials it prints, run the create-game-session command
it prints with the AWS CLI, wait for the session to be ACTIVE, create player sessions, connect
to the game with TCP and chat. Ctrl-C (SIGINT) stops everything cleanly and leaves no game
server behind; a second start on the same data dir reuses the location and the fleet.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import ANSI, START_TIMEOUT, STOP_TIMEOUT, openlift_bin

# The instructions end with the `nc` line; the game servers may take a moment to be ready.
BANNER_TIMEOUT = START_TIMEOUT + 30
ACTIVE_TIMEOUT = 30

EXPORT = re.compile(r"export AWS_ACCESS_KEY_ID=(\S+) AWS_SECRET_ACCESS_KEY=(\S+) AWS_DEFAULT_REGION=(\S+)")
ENDPOINT = re.compile(r"API endpoint\s+(http://\S+)")
FLEET = re.compile(r"Fleet\s+(fleet-\S+)")


def aws_cli() -> str:
    beside_python = Path(sys.executable).parent / "aws"
    found = str(beside_python) if beside_python.exists() else shutil.which("aws")
    assert found, "the AWS CLI (awscli) is not installed"
    return found


class Dev:
    """One `openlift dev` process and what it printed."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.lines: list[str] = []
        self._banner = threading.Event()
        binary = openlift_bin()
        if not binary.is_file():
            raise RuntimeError(f"openlift binary not found at {binary}; build it with `cargo build -p openlift` or set OPENLIFT_BIN")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENLIFT_", "AWS_"))}
        env["NO_COLOR"] = "1"
        env.setdefault("RUST_LOG", "info,sqlx=warn")
        cmd = [str(binary), "dev", "--listen", "127.0.0.1:0", "--data-dir", str(data_dir)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._banner.wait(BANNER_TIMEOUT) or not self.printed("nc <IpAddress> <Port>"):
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError("openlift dev printed no instructions:\n" + self.log)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(ANSI.sub("", line.rstrip("\n")))
            if line.strip() == "nc <IpAddress> <Port>":
                self._banner.set()
        self._banner.set()

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    def printed(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def find(self, pattern: re.Pattern) -> re.Match:
        for line in self.lines:
            match = pattern.search(line)
            if match:
                return match
        raise AssertionError(f"{pattern.pattern!r} not printed:\n{self.log}")

    @property
    def endpoint(self) -> str:
        return self.find(ENDPOINT).group(1)

    @property
    def fleet_id(self) -> str:
        return self.find(FLEET).group(1)

    def exported(self) -> dict[str, str]:
        """The variables of the printed `export` line."""
        key, secret, region = self.find(EXPORT).groups()
        return {"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_DEFAULT_REGION": region}

    def create_game_session_command(self) -> list[str]:
        line = next((l.strip() for l in self.lines if l.strip().startswith("aws gamelift create-game-session ")), None)
        assert line, f"no create-game-session command printed:\n{self.log}"
        return shlex.split(line)

    def interrupt(self) -> int:
        """Ctrl-C: SIGINT, then wait for the exit; returns the exit status."""
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(STOP_TIMEOUT)
        self._reader.join(STOP_TIMEOUT)
        return code


class Cli:
    """The AWS CLI in a shell where only the printed `export` line was run."""

    def __init__(self, dev: Dev):
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self.env["AWS_CONFIG_FILE"] = os.devnull
        self.env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
        self.env.update(dev.exported())
        self.endpoint = dev.endpoint

    def run(self, argv: list[str]) -> dict:
        assert argv[:2] == ["aws", "gamelift"], argv
        done = subprocess.run(
            [aws_cli(), *argv[1:], "--output", "json"],
            env=self.env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 0, f"{shlex.join(argv)} failed:\n{done.stderr}"
        return json.loads(done.stdout) if done.stdout.strip() else {}

    def gamelift(self, operation: str, *args: str) -> dict:
        return self.run(["aws", "gamelift", operation, "--endpoint-url", self.endpoint, *args])

    def wait_active(self, game_session_id: str) -> dict:
        deadline = time.monotonic() + ACTIVE_TIMEOUT
        while True:
            session = self.gamelift("describe-game-sessions", "--game-session-id", game_session_id)["GameSessions"][0]
            if session["Status"] == "ACTIVE" or time.monotonic() > deadline:
                assert session["Status"] == "ACTIVE", session
                return session
            time.sleep(0.3)


class Player:
    """A chat client: one TCP connection, lines in and out."""

    def __init__(self, ip: str, port: int, player_session_id: str):
        self.sock = socket.create_connection((ip, port), timeout=10)
        self.incoming = self.sock.makefile("r", encoding="utf-8", newline="\n")
        self.say(player_session_id)

    def say(self, text: str) -> None:
        self.sock.sendall(f"{text}\n".encode())

    def hear(self) -> str:
        line = self.incoming.readline()
        assert line, "the game server hung up"
        return line.rstrip("\n")

    def close(self) -> None:
        self.incoming.close()
        self.sock.close()


def game_processes(data_dir: Path) -> list[int]:
    """PIDs of sample games launched for this data dir (their `--log-dir` is inside it)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"sample-game" in argv and any(str(data_dir).encode() in arg for arg in argv):
            pids.append(int(entry.name))
    return pids


def assert_clean_stop(dev: Dev) -> None:
    code = dev.interrupt()
    assert code == 0, f"openlift dev exited with {code} after SIGINT:\n{dev.log}"
    assert dev.printed("openlift stopped"), dev.log
    assert game_processes(dev.data_dir) == [], "game servers outlived openlift dev"


@pytest.fixture
def data_dir(tmp_path) -> Path:
    return tmp_path / "openlift-data"


def test_dev_mode_hosts_a_chat_session_created_with_the_printed_command(data_dir):
    dev = Dev(data_dir)
    try:
        assert not dev.printed("No game server is ready yet"), dev.log
        assert game_processes(data_dir), dev.log
        cli = Cli(dev)
        creds = (data_dir / "credentials").read_text()
        assert f"aws_access_key_id = {cli.env['AWS_ACCESS_KEY_ID']}" in creds
        assert f"aws_secret_access_key = {cli.env['AWS_SECRET_ACCESS_KEY']}" in creds

        command = dev.create_game_session_command()
        assert command[command.index("--fleet-id") + 1] == dev.fleet_id
        assert command[command.index("--endpoint-url") + 1] == dev.endpoint
        created = cli.run(command)["GameSession"]
        assert created["Location"] == "custom-openlift-dev"
        assert created["MaximumPlayerSessionCount"] == 4
        session = cli.wait_active(created["GameSessionId"])
        ip, port = session["IpAddress"], session["Port"]
        assert ip == "127.0.0.1" and port > 0

        first = cli.gamelift(
            "create-player-session", "--game-session-id", session["GameSessionId"], "--player-id", "player-1"
        )["PlayerSession"]
        assert (first["Status"], first["IpAddress"], first["Port"]) == ("RESERVED", ip, port)
        alice = Player(ip, port, first["PlayerSessionId"])
        assert alice.hear() == f"OK {first['PlayerSessionId']}"
        described = cli.gamelift("describe-player-sessions", "--player-session-id", first["PlayerSessionId"])
        assert described["PlayerSessions"][0]["Status"] == "ACTIVE"

        second = cli.gamelift(
            "create-player-session", "--game-session-id", session["GameSessionId"], "--player-id", "player-2"
        )["PlayerSession"]
        bob = Player(ip, port, second["PlayerSessionId"])
        assert bob.hear() == f"OK {second['PlayerSessionId']}"
        assert alice.hear() == f"*: {second['PlayerSessionId']} joined"
        bob.say("hello from bob")
        assert alice.hear() == f"{second['PlayerSessionId']}: hello from bob"

        listed = cli.gamelift(
            "describe-game-sessions", "--fleet-id", dev.fleet_id, "--location", "custom-openlift-dev",
            "--status-filter", "ACTIVE",
        )["GameSessions"]
        assert [(s["GameSessionId"], s["CurrentPlayerSessionCount"]) for s in listed] == [
            (session["GameSessionId"], 2)
        ]

        alice.say("/end")
        assert bob.hear() == "* game over"
        alice.close()
        bob.close()
    finally:
        if dev.proc.poll() is None:
            assert_clean_stop(dev)
    with pytest.raises(OSError):
        socket.create_connection((ip, port), timeout=2).close()


def test_a_second_start_on_the_same_data_dir_reuses_the_fleet(data_dir):
    first = Dev(data_dir)
    try:
        fleet_id, exported = first.fleet_id, first.exported()
    finally:
        assert_clean_stop(first)

    again = Dev(data_dir)
    try:
        assert again.fleet_id == fleet_id
        assert again.exported() == exported
        cli = Cli(again)
        assert cli.gamelift("list-fleets")["FleetIds"] == [fleet_id]
        custom = cli.gamelift("list-locations", "--filters", "CUSTOM")["Locations"]
        assert [l["LocationName"] for l in custom] == ["custom-openlift-dev"]
        computes = cli.gamelift("list-compute", "--fleet-id", fleet_id)["ComputeList"]
        assert [(c["ComputeName"], c["GameLiftServiceSdkEndpoint"]) for c in computes] == [
            ("openlift-dev", again.endpoint.replace("http://", "ws://"))
        ]
        # The game servers reach the control plane on its new port.
        created = cli.run(again.create_game_session_command())["GameSession"]
        assert cli.wait_active(created["GameSessionId"])["IpAddress"] == "127.0.0.1"
        # Dev mode runs the GameLift Agent, so FORCE_TERMINATE goes through it.
        forced = cli.gamelift(
            "terminate-game-session", "--game-session-id", created["GameSessionId"],
            "--termination-mode", "FORCE_TERMINATE",
        )["GameSession"]
        assert (forced["Status"], forced["StatusReason"]) == ("TERMINATED", "FORCE_TERMINATED")
    finally:
        assert_clean_stop(again)
