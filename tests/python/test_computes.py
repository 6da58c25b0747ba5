"""RegisterCompute, DescribeCompute, ListCompute, GetComputeAuthToken, DeregisterCompute (spec 7.6)."""

import datetime
import re

import pytest

from conftest import ACCOUNT_ID, REGION, make_fleet, make_location, register, unique

UNKNOWN_FLEET = "fleet-00000000-0000-0000-0000-000000000000"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def test_registered_compute_is_active_with_arn_and_sdk_endpoint(gl, fleet, server):
    name = unique("host-")
    compute = register(gl, fleet, name, IpAddress="192.0.2.10", DnsName="host.example.net", CertificatePath="/cert.pem")
    assert compute["ComputeName"] == name
    assert compute["ComputeArn"] == f"arn:aws:gamelift:{REGION}:{ACCOUNT_ID}:compute/{name}"
    assert compute["FleetId"] == fleet["FleetId"]
    assert compute["FleetArn"] == fleet["FleetArn"]
    assert compute["IpAddress"] == "192.0.2.10"
    assert compute["DnsName"] == "host.example.net"
    assert compute["Location"] == fleet["Location"]
    assert compute["ComputeStatus"] == "ACTIVE"
    assert isinstance(compute["CreationTime"], datetime.datetime)
    assert compute["GameLiftServiceSdkEndpoint"] == f"ws://{server.address}"
    assert compute["GameLiftAgentEndpoint"] == f"ws://{server.address}/agent"


def test_registering_a_compute_name_twice_in_a_fleet_is_a_conflict(gl, fleet):
    compute = register(gl, fleet)
    with pytest.raises(gl.exceptions.ConflictException):
        register(gl, fleet, compute["ComputeName"])


def test_register_compute_with_unknown_fleet_is_an_invalid_request(gl, location):
    with pytest.raises(gl.exceptions.InvalidRequestException):
        gl.register_compute(FleetId=UNKNOWN_FLEET, ComputeName="c1", IpAddress="10.0.0.1", Location=location)


def test_register_compute_requires_a_custom_location_of_the_fleet(gl, fleet):
    with pytest.raises(gl.exceptions.InvalidRequestException):
        gl.register_compute(FleetId=fleet["FleetId"], ComputeName=unique("c-"), IpAddress="10.0.0.1")
    with pytest.raises(gl.exceptions.InvalidRequestException):
        register(gl, fleet, Location=REGION)
    with pytest.raises(gl.exceptions.InvalidRequestException):
        register(gl, fleet, Location=make_location(gl))


def test_register_compute_requires_an_ip_address_on_anywhere_fleets(gl, fleet):
    with pytest.raises(gl.exceptions.InvalidRequestException) as err:
        gl.register_compute(
            FleetId=fleet["FleetId"], ComputeName=unique("c-"), DnsName="h.example.net", Location=fleet["Location"]
        )
    assert "IpAddress" in err.value.response["Error"]["Message"]


def test_compute_name_pattern_is_validated(gl, fleet):
    with pytest.raises(gl.exceptions.InvalidRequestException) as err:
        register(gl, fleet, "bad name!")
    assert "at 'computeName'" in err.value.response["Error"]["Message"]


def test_describe_compute_by_name_and_by_arn(gl, fleet):
    compute = register(gl, fleet)
    assert gl.describe_compute(FleetId=fleet["FleetId"], ComputeName=compute["ComputeName"])["Compute"] == compute
    assert gl.describe_compute(FleetId=fleet["FleetArn"], ComputeName=compute["ComputeArn"])["Compute"] == compute


def test_compute_name_with_a_slash_is_found_by_name_and_by_arn(gl, fleet):
    # ComputeName allows one '/' (`^[a-zA-Z0-9\-]+(\/[a-zA-Z0-9\-]+)?$`), and
    # DescribeCompute accepts the compute ARN, `...:compute/<ComputeName>`.
    name = f"{unique('rack-')}/host-1"
    compute = register(gl, fleet, name)
    assert compute["ComputeArn"].endswith(f":compute/{name}")
    assert gl.describe_compute(FleetId=fleet["FleetId"], ComputeName=name)["Compute"]["ComputeName"] == name
    by_arn = gl.describe_compute(FleetId=fleet["FleetId"], ComputeName=compute["ComputeArn"])
    assert by_arn["Compute"]["ComputeName"] == name


def test_describe_unknown_compute_or_fleet_is_not_found(gl, fleet):
    with pytest.raises(gl.exceptions.NotFoundException):
        gl.describe_compute(FleetId=fleet["FleetId"], ComputeName="nope")
    with pytest.raises(gl.exceptions.NotFoundException):
        gl.describe_compute(FleetId=UNKNOWN_FLEET, ComputeName="nope")


def test_list_compute_filters_by_location_and_status(gl, fleet):
    extra = make_location(gl)
    gl.create_fleet_locations(FleetId=fleet["FleetId"], Locations=[{"Location": extra}])
    a = register(gl, fleet)
    b = register(gl, dict(fleet, Location=extra))
    names = lambda **kw: sorted(c["ComputeName"] for c in gl.list_compute(FleetId=fleet["FleetId"], **kw)["ComputeList"])
    assert names() == sorted([a["ComputeName"], b["ComputeName"]])
    assert names(Location=extra) == [b["ComputeName"]]
    assert names(ComputeStatus="ACTIVE") == sorted([a["ComputeName"], b["ComputeName"]])
    assert names(ComputeStatus="IMPAIRED") == []


def test_list_compute_of_unknown_fleet_is_an_invalid_request(gl):
    with pytest.raises(gl.exceptions.InvalidRequestException):
        gl.list_compute(FleetId=UNKNOWN_FLEET)


def test_compute_auth_token_is_fresh_each_time_and_expires_in_15_minutes(gl, fleet):
    compute = register(gl, fleet)
    before = datetime.datetime.now(datetime.timezone.utc)
    first = gl.get_compute_auth_token(FleetId=fleet["FleetId"], ComputeName=compute["ComputeName"])
    second = gl.get_compute_auth_token(FleetId=fleet["FleetArn"], ComputeName=compute["ComputeArn"])
    assert first["FleetId"] == fleet["FleetId"]
    assert first["FleetArn"] == fleet["FleetArn"]
    assert first["ComputeName"] == compute["ComputeName"]
    assert first["ComputeArn"] == compute["ComputeArn"]
    assert re.fullmatch(UUID, first["AuthToken"]) and re.fullmatch(UUID, second["AuthToken"])
    assert first["AuthToken"] != second["AuthToken"]
    expires = first["ExpirationTimestamp"]
    assert isinstance(expires, datetime.datetime)
    lifetime = expires - before
    assert datetime.timedelta(hours=3, minutes=-1) < lifetime <= datetime.timedelta(hours=3, seconds=30)


def test_compute_auth_token_for_unknown_compute_is_not_found(gl, fleet):
    with pytest.raises(gl.exceptions.NotFoundException):
        gl.get_compute_auth_token(FleetId=fleet["FleetId"], ComputeName="nope")


def test_deregistered_compute_is_gone(gl, fleet):
    compute = register(gl, fleet)
    out = gl.deregister_compute(FleetId=fleet["FleetId"], ComputeName=compute["ComputeName"])
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    with pytest.raises(gl.exceptions.NotFoundException):
        gl.describe_compute(FleetId=fleet["FleetId"], ComputeName=compute["ComputeName"])
    with pytest.raises(gl.exceptions.NotFoundException):
        gl.deregister_compute(FleetId=fleet["FleetId"], ComputeName=compute["ComputeName"])
    with pytest.raises(gl.exceptions.NotFoundException):
        gl.get_compute_auth_token(FleetId=fleet["FleetId"], ComputeName=compute["ComputeName"])
    assert gl.list_compute(FleetId=fleet["FleetId"])["ComputeList"] == []


def test_same_compute_name_may_be_registered_in_two_fleets(gl, fleet):
    other = dict(make_fleet(gl, [fleet["Location"]]), Location=fleet["Location"])
    name = unique("shared-")
    register(gl, fleet, name)
    register(gl, other, name)
    assert gl.describe_compute(FleetId=other["FleetId"], ComputeName=name)["Compute"]["FleetId"] == other["FleetId"]
