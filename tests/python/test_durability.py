"""State survives `kill -9`: on the default SQLite store and on PostgreSQL.

PostgreSQL comes from `OPENLIFT_TEST_DATABASE_URL` (scripts/test provides one); the
test creates a fresh database there and drops it afterwards.
"""

import glob
import os
import shutil
import subprocess
import urllib.parse
import uuid

import pytest

from conftest import DEFAULT_TEST_DATABASE_URL, Server, assert_clean_stop, make_location, register, unique


def populate(gl) -> dict:
    """A location, a fleet there, a compute and an alias, plus a page token; returns what was made."""
    location = make_location(gl, Tags=[{"Key": "kind", "Value": "location"}])
    fleet = gl.create_fleet(
        Name=unique("durable "),
        ComputeType="ANYWHERE",
        Locations=[{"Location": location}],
        RuntimeConfiguration={"ServerProcesses": [{"LaunchPath": "/local/game/srv", "ConcurrentExecutions": 1}]},
        Tags=[{"Key": "kind", "Value": "fleet"}],
    )["FleetAttributes"]
    fleet = dict(fleet, Location=location)
    computes = [register(gl, fleet) for _ in range(2)]
    alias = gl.create_alias(
        Name=unique("durable "), RoutingStrategy={"Type": "SIMPLE", "FleetId": fleet["FleetId"]}
    )["Alias"]
    page = gl.list_compute(FleetId=fleet["FleetId"], Limit=1)
    events = gl.describe_fleet_events(FleetId=fleet["FleetId"])["Events"]
    return {"location": location, "fleet": fleet, "computes": computes, "alias": alias, "page": page, "events": events}


def check(gl, made: dict) -> None:
    fleet = made["fleet"]
    names = [l["LocationName"] for l in gl.get_paginator("list_locations").paginate().search("Locations")]
    assert made["location"] in names
    attrs = gl.describe_fleet_attributes(FleetIds=[fleet["FleetId"]])["FleetAttributes"]
    assert attrs == [{k: v for k, v in fleet.items() if k != "Location"}]
    assert gl.describe_runtime_configuration(FleetId=fleet["FleetId"])["RuntimeConfiguration"]["ServerProcesses"] == [
        {"LaunchPath": "/local/game/srv", "ConcurrentExecutions": 1}
    ]
    endpoints = ("GameLiftServiceSdkEndpoint", "GameLiftAgentEndpoint")
    for compute in made["computes"]:
        now = gl.describe_compute(FleetId=fleet["FleetId"], ComputeName=compute["ComputeName"])["Compute"]
        # The endpoints shown are the restarted server's, which listens on a new port.
        assert {k: v for k, v in now.items() if k not in endpoints} == {
            k: v for k, v in compute.items() if k not in endpoints
        }
        address = gl.meta.endpoint_url.removeprefix("http://")
        assert now["GameLiftServiceSdkEndpoint"] == f"ws://{address}"
        assert now["GameLiftAgentEndpoint"] == f"ws://{address}/agent"
    assert gl.describe_alias(AliasId=made["alias"]["AliasId"])["Alias"] == made["alias"]
    assert gl.resolve_alias(AliasId=made["alias"]["AliasId"])["FleetId"] == fleet["FleetId"]
    tags = gl.list_tags_for_resource(ResourceARN=fleet["FleetArn"])["Tags"]
    assert tags == [{"Key": "kind", "Value": "fleet"}]
    assert gl.describe_fleet_events(FleetId=fleet["FleetId"])["Events"] == made["events"]
    # A NextToken handed out before the crash still works: its key lives in the store.
    rest = gl.list_compute(FleetId=fleet["FleetId"], Limit=1, NextToken=made["page"]["NextToken"])["ComputeList"]
    listed = sorted(c["ComputeName"] for c in made["page"]["ComputeList"] + rest)
    assert listed == sorted(c["ComputeName"] for c in made["computes"])


def crash_and_recover(tmp_path, args=()):
    srv = Server(tmp_path / "data", args=list(args)).start()
    try:
        made = populate(srv.client())
    except BaseException:
        srv.kill()
        raise
    srv.kill()
    assert srv.proc.returncode == -9
    srv.start()
    try:
        check(srv.client(), made)
        # Still writable after recovery.
        make_location(srv.client())
    finally:
        assert_clean_stop(srv)


def test_sqlite_state_survives_kill_9(tmp_path):
    crash_and_recover(tmp_path)


def psql() -> str:
    found = shutil.which("psql") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"), reverse=True)), None)
    assert found, "psql is needed to create the test database"
    return found


def run_sql(url: str, sql: str) -> None:
    done = subprocess.run([psql(), url, "-v", "ON_ERROR_STOP=1", "-qc", sql], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


@pytest.fixture
def fresh_postgres_database():
    base = os.environ.get("OPENLIFT_TEST_DATABASE_URL") or DEFAULT_TEST_DATABASE_URL
    name = f"openlift_pytest_{uuid.uuid4().hex[:12]}"
    run_sql(base, f'CREATE DATABASE "{name}"')
    parts = urllib.parse.urlsplit(base)
    yield urllib.parse.urlunsplit(parts._replace(path="/" + name))
    run_sql(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_postgres_state_survives_kill_9(tmp_path, fresh_postgres_database):
    crash_and_recover(tmp_path, ["--database-url", fresh_postgres_database])
