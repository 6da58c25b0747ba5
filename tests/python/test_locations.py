"""CreateLocation, ListLocations, DeleteLocation through boto3 (spec section 7.5)."""

import pytest

from conftest import ACCOUNT_ID, REGION, make_fleet, make_location, unique


def test_create_location_returns_name_and_arn_with_account(gl):
    name = unique("custom-")
    out = gl.create_location(LocationName=name)
    assert out["Location"] == {
        "LocationName": name,
        "LocationArn": f"arn:aws:gamelift:{REGION}:{ACCOUNT_ID}:location/{name}",
    }
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_duplicate_location_name_is_a_conflict(gl, location):
    with pytest.raises(gl.exceptions.ConflictException) as err:
        gl.create_location(LocationName=location)
    assert location in err.value.response["Error"]["Message"]


def test_location_name_without_custom_prefix_fails_validation_naming_the_member(gl):
    with pytest.raises(gl.exceptions.InvalidRequestException) as err:
        gl.create_location(LocationName="mylocation-1")
    message = err.value.response["Error"]["Message"]
    assert message.startswith("1 validation error detected: ")
    assert "at 'locationName'" in message
    assert "regular expression pattern" in message


def test_location_name_longer_than_64_fails_validation(gl):
    with pytest.raises(gl.exceptions.InvalidRequestException) as err:
        gl.create_location(LocationName="custom-" + "x" * 60)
    message = err.value.response["Error"]["Message"]
    assert "at 'locationName'" in message
    assert "Member must have length less than or equal to 64" in message


def test_list_locations_shows_home_region_first_then_custom_locations(gl, location):
    locations = list(gl.get_paginator("list_locations").paginate().search("Locations"))
    assert locations[0]["LocationName"] == REGION
    assert location in [l["LocationName"] for l in locations]


def test_custom_locations_are_listed_in_creation_order(gl):
    created = [make_location(gl) for _ in range(3)]
    names = [l["LocationName"] for l in gl.get_paginator("list_locations").paginate(Filters=["CUSTOM"]).search("Locations")]
    assert [n for n in names if n in created] == created


def test_list_locations_filters_aws_and_custom(gl, location):
    aws_only = gl.list_locations(Filters=["AWS"])["Locations"]
    assert [l["LocationName"] for l in aws_only] == [REGION]
    custom = list(gl.get_paginator("list_locations").paginate(Filters=["CUSTOM"]).search("Locations"))
    names = [l["LocationName"] for l in custom]
    assert REGION not in names
    assert location in names
    assert all(n.startswith("custom-") for n in names)


def test_list_locations_limit_above_200_fails_validation(gl):
    with pytest.raises(gl.exceptions.InvalidRequestException) as err:
        gl.list_locations(Limit=201)
    assert "at 'limit'" in err.value.response["Error"]["Message"]


def test_delete_location_removes_it_and_a_second_delete_is_not_found(gl, location):
    gl.delete_location(LocationName=location)
    names = [l["LocationName"] for l in gl.get_paginator("list_locations").paginate().search("Locations")]
    assert location not in names
    with pytest.raises(gl.exceptions.NotFoundException):
        gl.delete_location(LocationName=location)


def test_delete_location_accepts_its_arn(gl, location):
    gl.delete_location(LocationName=f"arn:aws:gamelift:{REGION}:{ACCOUNT_ID}:location/{location}")
    with pytest.raises(gl.exceptions.NotFoundException):
        gl.delete_location(LocationName=location)


def test_location_in_use_by_a_fleet_cannot_be_deleted(gl, fleet):
    with pytest.raises(gl.exceptions.InvalidRequestException) as err:
        gl.delete_location(LocationName=fleet["Location"])
    assert fleet["FleetId"] in err.value.response["Error"]["Message"]


def test_location_can_be_deleted_once_its_fleet_is_gone(gl):
    location = make_location(gl)
    attrs = make_fleet(gl, [location])
    gl.delete_fleet(FleetId=attrs["FleetId"])
    gl.delete_location(LocationName=location)


def test_create_location_with_reserved_tag_key_fails_tagging(gl):
    with pytest.raises(gl.exceptions.TaggingFailedException):
        gl.create_location(LocationName=unique("custom-"), Tags=[{"Key": "aws:owner", "Value": "x"}])
