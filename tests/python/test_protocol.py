"""awsJson 1.1 wire behaviour: routing, framework errors, response shape (spec sections 2.1-2.6)."""

import datetime
import http.client
import re
import socket
import time

import pytest

from conftest import Server, assert_clean_stop, send, unique


def test_success_carries_request_id_date_and_json_content_type(server):
    raw = send(server, "GameLift.ListAliases", {"Limit": 1})
    assert raw.status == 200
    assert re.fullmatch(r"[0-9a-f-]{36}", raw.headers["x-amzn-requestid"])
    assert raw.headers["content-type"].startswith("application/x-amz-json-1.1")
    assert raw.headers["date"].endswith(" GMT")
    assert "Aliases" in raw.json


def test_timestamps_are_epoch_seconds_on_the_wire_and_datetimes_in_boto3(server, gl):
    name = unique("custom-")
    gl.create_location(LocationName=name)
    raw = send(
        server,
        "GameLift.CreateFleet",
        {"Name": "wire", "ComputeType": "ANYWHERE", "Locations": [{"Location": name}]},
    )
    assert raw.status == 200, raw.body
    creation = raw.json["FleetAttributes"]["CreationTime"]
    assert isinstance(creation, (int, float))
    now = datetime.datetime.now(datetime.timezone.utc).timestamp()
    assert abs(now - creation) < 300
    parsed = gl.describe_fleet_attributes(FleetIds=[raw.json["FleetAttributes"]["FleetId"]])["FleetAttributes"][0]
    assert isinstance(parsed["CreationTime"], datetime.datetime)
    assert abs(parsed["CreationTime"].timestamp() - creation) < 0.001


def test_errors_are_400_with_type_message_and_request_id(server):
    raw = send(server, "GameLift.DescribeAlias", {"AliasId": "alias-00000000-0000-0000-0000-000000000000"})
    assert raw.status == 400
    assert raw.code == "NotFoundException"
    assert raw.message
    assert raw.headers["x-amzn-requestid"]


def test_unknown_operation_target_is_an_unknown_operation(server, gl):
    raw = send(server, "GameLift.NoSuchOperation")
    assert (raw.status, raw.code) == (400, "UnknownOperationException")
    raw = send(server, "DynamoDB_20120810.ListTables")
    assert (raw.status, raw.code) == (400, "UnknownOperationException")
    raw = send(server, None)
    assert (raw.status, raw.code) == (400, "UnknownOperationException")


def test_operation_names_are_case_sensitive(server):
    raw = send(server, "GameLift.listaliases")
    assert raw.code == "UnknownOperationException"


def test_malformed_json_is_a_serialization_exception(server):
    raw = send(server, "GameLift.ListAliases", b'{"Limit": ')
    assert (raw.status, raw.code) == (400, "SerializationException")
    raw = send(server, "GameLift.ListAliases", b"[1, 2]")
    assert (raw.status, raw.code) == (400, "SerializationException")


def test_member_of_the_wrong_json_type_is_a_serialization_exception(server):
    raw = send(server, "GameLift.ListAliases", {"Limit": "ten"})
    assert (raw.status, raw.code) == (400, "SerializationException")


def test_unknown_members_are_ignored(server):
    raw = send(server, "GameLift.ListAliases", {"Limit": 1, "SomeFutureMember": {"x": 1}})
    assert raw.status == 200, raw.body


def test_null_members_are_ignored(server):
    raw = send(server, "GameLift.ListAliases", {"Limit": None, "Name": None})
    assert raw.status == 200, raw.body


def test_missing_required_member_is_named(server):
    raw = send(server, "GameLift.DescribeAlias", {})
    assert raw.code == "InvalidRequestException"
    assert "Value null at 'aliasId' failed to satisfy constraint: Member must not be null" in raw.message


def test_oversized_body_is_refused(server):
    body = b'{"Name": "' + b"x" * (2 * 1024 * 1024 + 16) + b'"}'
    raw = send(server, "GameLift.ListAliases", body)
    assert raw.status == 400
    assert raw.code == "SerializationException"
    assert "larger than" in raw.message


def test_unsupported_operation_is_an_invalid_request_naming_it(gl):
    with pytest.raises(gl.exceptions.InvalidRequestException) as err:
        gl.create_build(Name="build")
    assert err.value.response["Error"]["Message"] == "Operation CreateBuild is not supported by openlift yet."
    with pytest.raises(gl.exceptions.InvalidRequestException) as err:
        gl.describe_game_session_queues()
    assert "DescribeGameSessionQueues" in err.value.response["Error"]["Message"]


def test_get_is_not_an_operation(server):
    raw = send(server, "GameLift.ListAliases", b"", method="GET")
    assert (raw.status, raw.code) == (400, "UnknownOperationException")


def test_endpoint_with_a_path_is_accepted(server):
    gl = server.client(endpoint=server.endpoint + "/gamelift")
    assert "Aliases" in gl.list_aliases(Limit=1)


def test_limit_below_one_fails_validation_on_the_server(server):
    # botocore checks `min` itself, so only a raw request shows the server's own check.
    raw = send(server, "GameLift.ListFleets", {"Limit": 0})
    assert (raw.status, raw.code) == (400, "InvalidRequestException")
    assert "at 'limit'" in raw.message
    assert "Member must have value greater than or equal to 1" in raw.message


def test_connection_limits_and_body_timeout_come_from_the_serve_flags(tmp_path):
    """--body-timeout and --max-connections-per-peer reach the listen port; /healthz needs no credentials."""
    srv = Server(tmp_path / "data", args=["--body-timeout", "1s", "--max-connections-per-peer", "2"]).start()
    try:
        host, port = srv.host.rsplit(":", 1)
        slow = socket.create_connection((host, int(port)), timeout=10)
        slow.sendall(
            b"POST / HTTP/1.1\r\nHost: " + srv.host.encode() + b"\r\nContent-Type: application/x-amz-json-1.1\r\n"
            b"X-Amz-Target: GameLift.ListAliases\r\nContent-Length: 50\r\n\r\n{"
        )
        started = time.monotonic()
        answer = b""
        while chunk := slow.recv(4096):
            answer += chunk
        assert time.monotonic() - started >= 1
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert b"RequestTimeoutException" in answer, answer
        slow.close()

        held = [socket.create_connection((host, int(port)), timeout=10) for _ in range(2)]
        health = http.client.HTTPConnection(host, int(port), timeout=10)
        health.request("GET", "/healthz")
        # Accepted and closed at once: the peer already holds its two connections.
        with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
            health.getresponse()
        health.close()
        held.pop().close()
        deadline = time.monotonic() + 10
        while True:
            health = http.client.HTTPConnection(host, int(port), timeout=10)
            try:
                health.request("GET", "/healthz")
                response = health.getresponse()
                status, body = response.status, response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError):
                # The server has not seen the close yet.
                assert time.monotonic() < deadline
            finally:
                health.close()
        assert (status, body) == (200, b'{"status":"ok"}')
        for held_socket in held:
            held_socket.close()
    finally:
        assert_clean_stop(srv)
