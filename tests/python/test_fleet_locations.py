"""CreateFleetLocations, DeleteFleetLocations, DescribeFleetLocationAttributes (spec 7.2, 7.4, 7.5)."""

import pytest

from conftest import REGION, make_location, register, unique

UNKNOWN_FLEET = "fleet-00000000-0000-0000-0000-000000000000"


def states(gl, fleet_id, **kwargs):
    out = gl.describe_fleet_location_attributes(FleetId=fleet_id, **kwargs)
    return [(l["LocationState"]["Location"], l["LocationState"]["Status"]) for l in out["LocationAttributes"]]


def test_added_location_is_active_and_only_new_locations_are_returned(gl, fleet):
    extra = make_location(gl)
    out = gl.create_fleet_locations(FleetId=fleet["FleetId"], Locations=[{"Location": extra}])
    assert out["FleetId"] == fleet["FleetId"]
    assert out["FleetArn"] == fleet["FleetArn"]
    assert out["LocationStates"] == [{"Location": extra, "Status": "ACTIVE"}]
    assert states(gl, fleet["FleetId"]) == [(REGION, "ACTIVE"), (fleet["Location"], "ACTIVE"), (extra, "ACTIVE")]
    codes = [e["EventCode"] for e in gl.describe_fleet_events(FleetId=fleet["FleetId"])["Events"]]
    assert "LOCATION_STATE_CREATED" in codes


def test_adding_a_location_the_fleet_has_is_invalid(gl, fleet):
    with pytest.raises(gl.exceptions.InvalidRequestException):
        gl.create_fleet_locations(FleetId=fleet["FleetId"], Locations=[{"Location": fleet["Location"]}])


def test_adding_an_unknown_location_is_not_found(gl, fleet):
    with pytest.raises(gl.exceptions.NotFoundException):
        gl.create_fleet_locations(FleetId=fleet["FleetId"], Locations=[{"Location": unique("custom-")}])


def test_adding_an_aws_region_to_an_anywhere_fleet_is_invalid(gl, fleet):
    with pytest.raises(gl.exceptions.InvalidRequestException):
        gl.create_fleet_locations(FleetId=fleet["FleetId"], Locations=[{"Location": "us-west-2"}])


def test_adding_locations_to_an_unknown_fleet_is_not_found(gl, location):
    with pytest.raises(gl.exceptions.NotFoundException):
        gl.create_fleet_locations(FleetId=UNKNOWN_FLEET, Locations=[{"Location": location}])


def test_nested_location_violation_names_the_list_member(gl, fleet):
    with pytest.raises(gl.exceptions.InvalidRequestException) as err:
        gl.create_fleet_locations(FleetId=fleet["FleetId"], Locations=[{"Location": "bad_location!"}])
    assert "at 'locations.1.member.location'" in err.value.response["Error"]["Message"]


def test_removed_location_is_reported_deleting_and_its_computes_deregistered(gl, fleet):
    extra = make_location(gl)
    gl.create_fleet_locations(FleetId=fleet["FleetId"], Locations=[{"Location": extra}])
    compute = register(gl, dict(fleet, Location=extra))
    kept = register(gl, fleet)
    out = gl.delete_fleet_locations(FleetId=fleet["FleetId"], Locations=[extra])
    assert out["FleetId"] == fleet["FleetId"]
    assert out["LocationStates"] == [{"Location": extra, "Status": "DELETING"}]
    assert extra not in [name for name, _ in states(gl, fleet["FleetId"])]
    codes = [e["EventCode"] for e in gl.describe_fleet_events(FleetId=fleet["FleetId"])["Events"]]
    assert codes[:2] == ["LOCATION_STATE_DELETED", "LOCATION_STATE_DELETING"]
    with pytest.raises(gl.exceptions.NotFoundException):
        gl.describe_compute(FleetId=fleet["FleetId"], ComputeName=compute["ComputeName"])
    gl.describe_compute(FleetId=fleet["FleetId"], ComputeName=kept["ComputeName"])
    # The location itself still exists and, unused now, can be deleted.
    gl.delete_location(LocationName=extra)


def test_home_region_cannot_be_removed(gl, fleet):
    with pytest.raises(gl.exceptions.InvalidRequestException):
        gl.delete_fleet_locations(FleetId=fleet["FleetId"], Locations=[REGION])


def test_removing_a_location_the_fleet_lacks_is_invalid(gl, fleet):
    with pytest.raises(gl.exceptions.InvalidRequestException):
        gl.delete_fleet_locations(FleetId=fleet["FleetId"], Locations=[unique("custom-")])


def test_removing_locations_from_unknown_fleet_is_not_found(gl):
    with pytest.raises(gl.exceptions.NotFoundException):
        gl.delete_fleet_locations(FleetId=UNKNOWN_FLEET, Locations=["custom-x1234"])


def test_location_attributes_follow_requested_order_and_skip_unknown(gl, fleet):
    listed = states(gl, fleet["FleetArn"], Locations=[fleet["Location"], "custom-nothere", REGION])
    assert listed == [(fleet["Location"], "ACTIVE"), (REGION, "ACTIVE")]


def test_location_attributes_of_unknown_fleet_are_not_found(gl):
    with pytest.raises(gl.exceptions.NotFoundException):
        gl.describe_fleet_location_attributes(FleetId=UNKNOWN_FLEET)
