"""Game sessions and player sessions over awsJson 1.1 with boto3 (spec 7.9, 7.10, 7.12).

The game servers are real processes: the sample chat game (`crates/sample-game`), launched
the way an agent launches it, with the GAMELIFT_SDK_* environment (server-sdk-protocol.md
1.1) and a token from GetComputeAuthToken. Its computes register 127.0.0.1, so the address
a player session names reaches the game over TCP; the game validates the player session ID
it reads first with AcceptPlayerSession.

InvalidFleetStatusException cannot be provoked here: an Anywhere fleet is ACTIVE until it
is deleted, and then it is not found (the Rust suite puts a fleet in ERROR through the
store). UnauthorizedException and UnsupportedRegionException never come from an operation:
SigV4 answers bad credentials and other Regions first (test_sigv4.py).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import boto3
import botocore.config
import pytest

from conftest import REGION, make_fleet, make_location, openlift_bin, register, send, unique

UNKNOWN_FLEET = "fleet-00000000-0000-4000-8000-000000000000"
UNKNOWN_ALIAS = "alias-00000000-0000-4000-8000-000000000000"
WAIT = 30


def sample_game_bin() -> Path:
    """The sample game, built beside the openlift binary (`cargo build --workspace`)."""
    return openlift_bin().parent / "openlift-sample-game"


def eventually(what: str, check):
    """Polls `check` until it returns something truthy; fails after WAIT seconds."""
    deadline = time.monotonic() + WAIT
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def free_port() -> int:
    """A free TCP port that GameLift accepts in ProcessReady (1-60000; ephemeral ports go higher)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port <= 60000:
            return port


class Game:
    """One sample game process for a compute."""

    def __init__(self, gl, fleet: dict, compute: dict, log_dir: Path):
        self.port = free_port()
        token = gl.get_compute_auth_token(FleetId=fleet["FleetId"], ComputeName=compute["ComputeName"])["AuthToken"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("GAMELIFT_")}
        env.update(
            GAMELIFT_SDK_WEBSOCKET_URL=compute["GameLiftServiceSdkEndpoint"],
            GAMELIFT_SDK_AUTH_TOKEN=token,
            GAMELIFT_SDK_FLEET_ID=fleet["FleetId"],
            GAMELIFT_SDK_HOST_ID=compute["ComputeName"],
            GAMELIFT_SDK_PROCESS_ID=unique("process-"),
            NO_COLOR="1",
        )
        binary = sample_game_bin()
        if not binary.is_file():
            raise RuntimeError(f"sample game not found at {binary}; build it with `cargo build -p openlift-sample-game`")
        cmd = [str(binary), "--port", str(self.port), "--log-dir", str(log_dir)]
        self.stderr = log_dir / f"game-{self.port}.stderr"
        with open(self.stderr, "w") as stderr:
            self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=stderr)

    def log(self) -> str:
        return self.stderr.read_text()

    def exited(self) -> int | None:
        try:
            return self.proc.wait(WAIT)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(WAIT)


@pytest.fixture
def games(tmp_path):
    """Starts sample games; kills whatever is still running at the end."""
    started: list[Game] = []

    def start(gl, fleet, compute, count=1) -> list[Game]:
        new = [Game(gl, fleet, compute, tmp_path) for _ in range(count)]
        started.extend(new)
        wanted = len([g for g in started if g.proc.poll() is None])
        try:
            eventually(f"{count} games to be ready", lambda: active_processes(gl, fleet) >= wanted)
        except AssertionError as err:
            raise AssertionError("\n".join([str(err)] + [g.log() for g in new])) from None
        return new

    yield start
    for game in started:
        game.stop()


def active_processes(gl, fleet) -> int:
    utilization = gl.describe_fleet_utilization(FleetIds=[fleet["FleetId"]])["FleetUtilization"][0]
    return utilization["ActiveServerProcessCount"]


@pytest.fixture
def once(server):
    """A client that never retries, so each answer is the server's first."""
    ak, sk = server.credentials()
    return boto3.client(
        "gamelift",
        endpoint_url=server.endpoint,
        region_name=REGION,
        aws_access_key_id=ak,
        aws_secret_access_key=sk,
        config=botocore.config.Config(retries={"total_max_attempts": 1}),
    )


@pytest.fixture
def local_fleet(gl, fleet) -> tuple[dict, dict]:
    """A fresh fleet and a compute on 127.0.0.1 in its location."""
    return fleet, register(gl, fleet, IpAddress="127.0.0.1")


def session(gl, game_session_id: str) -> dict:
    return gl.describe_game_sessions(GameSessionId=game_session_id)["GameSessions"][0]


def wait_status(gl, game_session_id: str, status: str) -> dict:
    return eventually(status, lambda: (s := session(gl, game_session_id))["Status"] == status and s)


def create(gl, fleet: dict, **kwargs) -> dict:
    kwargs.setdefault("MaximumPlayerSessionCount", 4)
    kwargs.setdefault("Location", fleet["Location"])
    return gl.create_game_session(FleetId=fleet["FleetId"], **kwargs)["GameSession"]


class Player:
    """A TCP connection to the game that has sent its player session ID."""

    def __init__(self, ip: str, port: int, player_session_id: str):
        self.sock = socket.create_connection((ip, port), timeout=WAIT)
        self.sock.sendall(f"{player_session_id}\n".encode())
        self.lines = self.sock.makefile("r")

    def answer(self) -> str:
        return self.lines.readline().strip()

    def close(self) -> None:
        self.lines.close()
        self.sock.close()


def failure(call, *args, **kwargs):
    """The botocore error of a call that must fail: (code, HTTP status, message)."""
    with pytest.raises(Exception) as err:
        call(*args, **kwargs)
    response = err.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


def assert_failure(got, code: str, *names: str) -> None:
    assert got[:2] == (code, 400), got
    for name in names:
        assert name in got[2], got


# ---------------------------------------------------------------- the life cycle


def test_a_game_session_activates_on_the_sample_game_and_players_join_over_tcp(gl, local_fleet, games):
    fleet, compute = local_fleet
    (game,) = games(gl, fleet, compute)

    created = create(gl, fleet, Name="chat", GameProperties=[{"Key": "mode", "Value": "chat"}], IdempotencyToken=unique("t-"))
    assert created["Status"] == "ACTIVATING"
    assert created["GameSessionId"].startswith(f"arn:aws:gamelift:{REGION}::gamesession/{fleet['FleetId']}/{fleet['Location']}/")
    assert created["CurrentPlayerSessionCount"] == 0
    assert created["PlayerSessionCreationPolicy"] == "ACCEPT_ALL"
    gsid = created["GameSessionId"]
    active = wait_status(gl, gsid, "ACTIVE")
    assert (active["IpAddress"], active["Port"]) == ("127.0.0.1", game.port)
    assert (active["ComputeName"], active["Location"]) == (compute["ComputeName"], fleet["Location"])
    assert active["GameProperties"] == [{"Key": "mode", "Value": "chat"}]

    details = gl.describe_game_session_details(FleetId=fleet["FleetId"])["GameSessionDetails"]
    assert [(d["GameSession"]["GameSessionId"], d["ProtectionPolicy"]) for d in details] == [(gsid, "NoProtection")]
    assert gl.describe_game_sessions(FleetId=fleet["FleetId"], StatusFilter="ACTIVE")["GameSessions"][0]["GameSessionId"] == gsid

    reserved = gl.create_player_session(GameSessionId=gsid, PlayerId="ana", PlayerData="level 7")["PlayerSession"]
    assert reserved["Status"] == "RESERVED"
    assert (reserved["IpAddress"], reserved["Port"], reserved["FleetId"]) == ("127.0.0.1", game.port, fleet["FleetId"])
    ana = Player(reserved["IpAddress"], reserved["Port"], reserved["PlayerSessionId"])
    assert ana.answer().startswith("OK"), "the game accepts the reserved player"
    described = gl.describe_player_sessions(PlayerSessionId=reserved["PlayerSessionId"])["PlayerSessions"]
    assert [(p["PlayerId"], p["Status"], p["PlayerData"]) for p in described] == [("ana", "ACTIVE", "level 7")]

    stranger = Player("127.0.0.1", game.port, "psess-00000000-0000-4000-8000-000000000000")
    assert stranger.answer().startswith("ERROR")
    stranger.close()

    batch = gl.create_player_sessions(GameSessionId=gsid, PlayerIds=["ben", "cid"], PlayerDataMap={"ben": "b", "zed": "z"})
    players = {p["PlayerId"]: p for p in batch["PlayerSessions"]}
    assert sorted(players) == ["ben", "cid"]
    assert players["ben"]["PlayerData"] == "b" and "PlayerData" not in players["cid"]
    assert {p["Status"] for p in players.values()} == {"RESERVED"}
    assert session(gl, gsid)["CurrentPlayerSessionCount"] == 3

    by_status = gl.describe_player_sessions(GameSessionId=gsid, PlayerSessionStatusFilter="RESERVED")["PlayerSessions"]
    assert sorted(p["PlayerId"] for p in by_status) == ["ben", "cid"]
    by_player = gl.describe_player_sessions(PlayerId="ana")["PlayerSessions"]
    assert [p["PlayerSessionId"] for p in by_player] == [reserved["PlayerSessionId"]]
    paged = gl.describe_player_sessions(GameSessionId=gsid, Limit=2)
    assert len(paged["PlayerSessions"]) == 2
    rest = gl.describe_player_sessions(GameSessionId=gsid, Limit=2, NextToken=paged["NextToken"])
    assert len(rest["PlayerSessions"]) == 1 and "NextToken" not in rest

    hits = gl.search_game_sessions(
        FleetId=fleet["FleetId"], FilterExpression="gameSessionProperties.mode = 'chat' AND hasAvailablePlayerSessions=true"
    )["GameSessions"]
    assert [s["GameSessionId"] for s in hits] == [gsid]
    assert gl.search_game_sessions(FleetId=fleet["FleetId"], FilterExpression="playerSessionCount >= 4")["GameSessions"] == []
    assert gl.search_game_sessions(FleetId=fleet["FleetId"], Location=fleet["Location"], SortExpression="creationTimeMillis ASC")["GameSessions"][0]["GameSessionId"] == gsid

    updated = gl.update_game_session(
        GameSessionId=gsid,
        Name="chat-full",
        MaximumPlayerSessionCount=3,
        PlayerSessionCreationPolicy="DENY_ALL",
        ProtectionPolicy="FullProtection",
        GameProperties=[{"Key": "mode", "Value": "quiet"}, {"Key": "map", "Value": "lobby"}],
    )["GameSession"]
    assert (updated["Name"], updated["MaximumPlayerSessionCount"], updated["PlayerSessionCreationPolicy"]) == ("chat-full", 3, "DENY_ALL")
    assert updated["GameProperties"] == [{"Key": "mode", "Value": "quiet"}, {"Key": "map", "Value": "lobby"}]
    details = gl.describe_game_session_details(GameSessionId=gsid)["GameSessionDetails"]
    assert details[0]["ProtectionPolicy"] == "FullProtection"
    # 2 properties and 15 new keys would make 17: a session holds at most 16.
    too_many = [{"Key": f"k{i}", "Value": "v"} for i in range(15)]
    assert_failure(
        failure(gl.update_game_session, GameSessionId=gsid, GameProperties=too_many),
        "InvalidRequestException",
        "GameProperties",
        "16",
    )
    assert session(gl, gsid)["GameProperties"] == updated["GameProperties"]
    with pytest.raises(gl.exceptions.GameSessionFullException):
        gl.create_player_session(GameSessionId=gsid, PlayerId="dee")
    assert gl.search_game_sessions(FleetId=fleet["FleetId"], FilterExpression="hasAvailablePlayerSessions=true")["GameSessions"] == []

    terminating = gl.terminate_game_session(GameSessionId=gsid, TerminationMode="TRIGGER_ON_PROCESS_TERMINATE")["GameSession"]
    assert terminating["Status"] == "TERMINATING"
    assert ana.answer() == "* game over"
    ana.close()
    assert game.exited() == 0, "the game calls ProcessEnding and exits"
    ended = wait_status(gl, gsid, "TERMINATED")
    assert ended["StatusReason"] == "TRIGGERED_ON_PROCESS_TERMINATE"
    assert "TerminationTime" in ended
    with pytest.raises(gl.exceptions.InvalidGameSessionStatusException):
        gl.create_player_session(GameSessionId=gsid, PlayerId="late")
    with pytest.raises(gl.exceptions.InvalidGameSessionStatusException):
        gl.update_game_session(GameSessionId=gsid, Name="after")
    assert gl.search_game_sessions(FleetId=fleet["FleetId"])["GameSessions"] == []


def test_force_terminate_needs_the_gamelift_agent(gl, local_fleet, games):
    fleet, compute = local_fleet
    (game,) = games(gl, fleet, compute)
    gsid = create(gl, fleet)["GameSessionId"]
    wait_status(gl, gsid, "ACTIVE")

    # The sample game runs without the GameLift Agent: AWS refuses FORCE_TERMINATE then.
    assert_failure(
        failure(gl.terminate_game_session, GameSessionId=gsid, TerminationMode="FORCE_TERMINATE"),
        "InvalidRequestException",
        "FORCE_TERMINATE",
        "GameLift Agent",
        compute["ComputeName"],
    )
    assert session(gl, gsid)["Status"] == "ACTIVE"
    assert game.proc.poll() is None, "the game keeps running"

    gl.terminate_game_session(GameSessionId=gsid, TerminationMode="TRIGGER_ON_PROCESS_TERMINATE")
    assert game.exited() == 0, "the game calls ProcessEnding and exits"
    assert wait_status(gl, gsid, "TERMINATED")["StatusReason"] == "TRIGGERED_ON_PROCESS_TERMINATE"
    assert_failure(
        failure(gl.terminate_game_session, GameSessionId=gsid, TerminationMode="FORCE_TERMINATE"),
        "InvalidGameSessionStatusException",
        "TERMINATED",
    )


def test_sessions_on_several_games_are_described_by_fleet_alias_and_location(gl, local_fleet, games):
    fleet, compute = local_fleet
    started = games(gl, fleet, compute, count=3)
    alias = gl.create_alias(Name=unique("a-"), RoutingStrategy={"Type": "SIMPLE", "FleetId": fleet["FleetId"]})["Alias"]
    ids = [
        gl.create_game_session(AliasId=alias["AliasId"], Location=fleet["Location"], MaximumPlayerSessionCount=2, Name=f"room-{i}")[
            "GameSession"
        ]["GameSessionId"]
        for i in range(3)
    ]
    for gsid in ids:
        wait_status(gl, gsid, "ACTIVE")
    ports = {session(gl, gsid)["Port"] for gsid in ids}
    assert ports == {g.port for g in started}, "each game hosts one session"

    by_alias = gl.describe_game_sessions(AliasId=alias["AliasId"])["GameSessions"]
    assert sorted(s["GameSessionId"] for s in by_alias) == sorted(ids)
    by_location = gl.describe_game_sessions(FleetId=fleet["FleetId"], Location=fleet["Location"], Limit=2)
    assert len(by_location["GameSessions"]) == 2 and by_location["NextToken"]
    assert gl.describe_game_sessions(FleetId=fleet["FleetId"], Location=REGION)["GameSessions"] == []
    named = gl.search_game_sessions(AliasId=alias["AliasId"], FilterExpression="gameSessionName = 'room-1'")["GameSessions"]
    assert [s["GameSessionId"] for s in named] == [ids[1]]
    newest_first = gl.search_game_sessions(FleetId=fleet["FleetId"], SortExpression="creationTimeMillis DESC", Limit=1)
    assert len(newest_first["GameSessions"]) == 1 and newest_first["NextToken"]
    assert_failure(failure(create, gl, fleet), "FleetCapacityExceededException", fleet["FleetId"])


# ---------------------------------------------------------------- CreateGameSession exceptions


def test_unknown_fleet_and_alias_are_not_found(server, once, location):
    got = failure(once.create_game_session, FleetId=UNKNOWN_FLEET, Location=location, MaximumPlayerSessionCount=2)
    assert_failure(got, "NotFoundException", UNKNOWN_FLEET)
    got = failure(once.create_game_session, AliasId=UNKNOWN_ALIAS, Location=location, MaximumPlayerSessionCount=2)
    assert_failure(got, "NotFoundException", UNKNOWN_ALIAS)
    raw = send(server, "GameLift.CreateGameSession", {"FleetId": UNKNOWN_FLEET, "Location": location, "MaximumPlayerSessionCount": 2})
    assert (raw.status, raw.code) == (400, "NotFoundException")
    assert raw.json["__type"].endswith("NotFoundException") and UNKNOWN_FLEET in raw.message


def test_a_terminal_alias_answers_its_routing_message(once, location):
    alias = once.create_alias(Name=unique("a-"), RoutingStrategy={"Type": "TERMINAL", "Message": "Closed for the season."})["Alias"]
    got = failure(once.create_game_session, AliasId=alias["AliasId"], Location=location, MaximumPlayerSessionCount=2)
    assert got == ("TerminalRoutingStrategyException", 400, "Closed for the season.")


def test_fleet_alias_and_location_rules_are_invalid_requests(server, once, local_fleet):
    fleet, _ = local_fleet
    alias = once.create_alias(Name=unique("a-"), RoutingStrategy={"Type": "SIMPLE", "FleetId": fleet["FleetId"]})["Alias"]
    got = failure(
        once.create_game_session, FleetId=fleet["FleetId"], AliasId=alias["AliasId"], Location=fleet["Location"], MaximumPlayerSessionCount=2
    )
    assert_failure(got, "InvalidRequestException", "FleetId", "AliasId")
    got = failure(once.create_game_session, Location=fleet["Location"], MaximumPlayerSessionCount=2)
    assert_failure(got, "InvalidRequestException", "FleetId", "AliasId")
    got = failure(once.create_game_session, FleetId=fleet["FleetId"], MaximumPlayerSessionCount=2)
    assert_failure(got, "InvalidRequestException", "Location", fleet["FleetId"])
    other = make_location(once)
    got = failure(once.create_game_session, FleetId=fleet["FleetId"], Location=other, MaximumPlayerSessionCount=2)
    assert_failure(got, "InvalidRequestException", other, fleet["FleetId"])
    raw = send(server, "GameLift.CreateGameSession", {"FleetId": fleet["FleetId"], "MaximumPlayerSessionCount": 2})
    assert (raw.status, raw.code) == (400, "InvalidRequestException")


@pytest.mark.parametrize(
    "member, value, named",
    [
        ("MaximumPlayerSessionCount", -1, "'maximumPlayerSessionCount'"),
        ("MaximumPlayerSessionCount", 201, "200"),
        ("IdempotencyToken", "not a token!", "'idempotencyToken'"),
        ("IdempotencyToken", "t" * 49, "'idempotencyToken'"),
        ("Location", "custom_lab", "'location'"),
        ("Name", "n" * 1025, "'name'"),
        ("CreatorId", "c" * 1025, "'creatorId'"),
        ("GameProperties", [{"Key": "k" * 33, "Value": "v"}], "'gameProperties.1.member.key'"),
        ("GameProperties", [{"Key": "k", "Value": "v" * 97}], "'gameProperties.1.member.value'"),
        ("GameProperties", [{"Key": f"k{i}", "Value": "v"} for i in range(17)], "'gameProperties'"),
        ("GameSessionData", "d" * 262145, "'gameSessionData'"),
    ],
)
def test_field_constraints_are_invalid_requests_naming_the_member(server, local_fleet, member, value, named):
    fleet, _ = local_fleet
    body = {"FleetId": fleet["FleetId"], "Location": fleet["Location"], "MaximumPlayerSessionCount": 2, member: value}
    raw = send(server, "GameLift.CreateGameSession", body)
    assert (raw.status, raw.code) == (400, "InvalidRequestException"), raw.body
    assert named in raw.message, raw.message


def test_no_free_process_is_fleet_capacity_exceeded(once, local_fleet):
    fleet, _ = local_fleet
    got = failure(once.create_game_session, FleetId=fleet["FleetId"], Location=fleet["Location"], MaximumPlayerSessionCount=2)
    assert_failure(got, "FleetCapacityExceededException", fleet["FleetId"], fleet["Location"])


def test_creator_limits_and_idempotency_on_real_games(gl, once, local_fleet, games):
    fleet, compute = local_fleet
    games(gl, fleet, compute, count=4)

    # Without a policy a CreatorId may start one session a second.
    create(once, fleet, CreatorId="ana")
    assert_failure(failure(create, once, fleet, CreatorId="ana"), "LimitExceededException", "ana")
    create(once, fleet)  # no CreatorId, no limit

    # With a policy of 1 per minute, a creator's second session in the minute is refused.
    once.update_fleet_attributes(
        FleetId=fleet["FleetId"], ResourceCreationLimitPolicy={"NewGameSessionsPerCreator": 1, "PolicyPeriodInMinutes": 1}
    )
    create(once, fleet, CreatorId="ben")
    assert_failure(failure(create, once, fleet, CreatorId="ben"), "LimitExceededException", "ben", "60 seconds")
    # A fleet with a policy needs the CreatorId.
    assert_failure(failure(create, once, fleet), "InvalidRequestException", "CreatorId", fleet["FleetId"])

    # A repeated token returns the original; other parameters are a mismatch naming it.
    token = unique("match-")
    original = create(once, fleet, IdempotencyToken=token, Name="duel", CreatorId="cy")
    again = create(once, fleet, IdempotencyToken=token, Name="duel", CreatorId="cy")
    assert again["GameSessionId"] == original["GameSessionId"]
    assert again["CreationTime"] == original["CreationTime"]
    got = failure(create, once, fleet, IdempotencyToken=token, Name="brawl", CreatorId="cy")
    assert_failure(got, "IdempotentParameterMismatchException", original["GameSessionId"])
    # The token names that one session in the Region: another fleet cannot reuse it.
    other = dict(make_fleet(gl, [fleet["Location"]]), Location=fleet["Location"])
    got = failure(create, once, other, IdempotencyToken=token, Name="duel", CreatorId="cy")
    assert_failure(got, "IdempotentParameterMismatchException", original["GameSessionId"])
    # Every process hosts a session now.
    assert_failure(failure(create, once, fleet, CreatorId="dee"), "FleetCapacityExceededException", fleet["FleetId"])
