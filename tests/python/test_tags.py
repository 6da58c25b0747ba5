"""TagResource, UntagResource, ListTagsForResource on fleets, aliases and locations."""

import pytest

from conftest import ACCOUNT_ID, REGION, make_fleet, unique


def tags_of(gl, arn):
    return sorted((t["Key"], t["Value"]) for t in gl.list_tags_for_resource(ResourceARN=arn)["Tags"])


def test_tags_given_at_creation_are_listed_for_fleet_alias_and_location(gl):
    location = unique("custom-")
    loc_arn = gl.create_location(LocationName=location, Tags=[{"Key": "team", "Value": "ops"}])["Location"]["LocationArn"]
    assert tags_of(gl, loc_arn) == [("team", "ops")]
    fleet = make_fleet(gl, [location], Tags=[{"Key": "env", "Value": "test"}])
    assert tags_of(gl, fleet["FleetArn"]) == [("env", "test")]
    alias = gl.create_alias(
        Name=unique("a"), RoutingStrategy={"Type": "TERMINAL", "Message": "m"}, Tags=[{"Key": "k", "Value": "v"}]
    )["Alias"]
    assert tags_of(gl, alias["AliasArn"]) == [("k", "v")]


def test_tag_overwrites_values_and_untag_removes_keys(gl, fleet):
    arn = fleet["FleetArn"]
    assert tags_of(gl, arn) == []
    gl.tag_resource(ResourceARN=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    gl.tag_resource(ResourceARN=arn, Tags=[{"Key": "a", "Value": "3"}])
    assert tags_of(gl, arn) == [("a", "3"), ("b", "2")]
    gl.untag_resource(ResourceARN=arn, TagKeys=["a", "not-there"])
    assert tags_of(gl, arn) == [("b", "2")]


def test_fleet_arn_with_another_account_id_names_the_same_fleet(gl, fleet):
    other_account = fleet["FleetArn"].replace(f":{ACCOUNT_ID}:", ":111122223333:")
    gl.tag_resource(ResourceARN=other_account, Tags=[{"Key": "x", "Value": "y"}])
    assert tags_of(gl, fleet["FleetArn"]) == [("x", "y")]


def test_reserved_aws_prefix_fails_tagging(gl, fleet):
    with pytest.raises(gl.exceptions.TaggingFailedException):
        gl.tag_resource(ResourceARN=fleet["FleetArn"], Tags=[{"Key": "aws:cloudformation", "Value": "x"}])


def test_fifty_first_tag_fails_tagging_and_changes_nothing(gl, fleet):
    arn = fleet["FleetArn"]
    gl.tag_resource(ResourceARN=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    gl.tag_resource(ResourceARN=arn, Tags=[{"Key": "k0", "Value": "overwritten"}])
    with pytest.raises(gl.exceptions.TaggingFailedException):
        gl.tag_resource(ResourceARN=arn, Tags=[{"Key": "k50", "Value": "v"}])
    listed = tags_of(gl, arn)
    assert len(listed) == 50
    assert ("k0", "overwritten") in listed


def test_malformed_arn_is_an_invalid_request(gl):
    for arn in ("fleet-123", f"arn:aws:s3:{REGION}::bucket/key", f"arn:aws:gamelift:{REGION}:1:widget/w-1"):
        with pytest.raises(gl.exceptions.InvalidRequestException):
            gl.list_tags_for_resource(ResourceARN=arn)


def test_unknown_or_other_region_resources_are_not_found(gl, fleet):
    missing = [
        f"arn:aws:gamelift:{REGION}:{ACCOUNT_ID}:fleet/fleet-00000000-0000-0000-0000-000000000000",
        f"arn:aws:gamelift:{REGION}::alias/alias-00000000-0000-0000-0000-000000000000",
        f"arn:aws:gamelift:{REGION}:{ACCOUNT_ID}:location/custom-nothere",
        f"arn:aws:gamelift:{REGION}::build/build-00000000-0000-0000-0000-000000000000",
        fleet["FleetArn"].replace(REGION, "eu-west-1"),
    ]
    for arn in missing:
        with pytest.raises(gl.exceptions.NotFoundException):
            gl.tag_resource(ResourceARN=arn, Tags=[{"Key": "k", "Value": "v"}])
        with pytest.raises(gl.exceptions.NotFoundException):
            gl.untag_resource(ResourceARN=arn, TagKeys=["k"])
        with pytest.raises(gl.exceptions.NotFoundException):
            gl.list_tags_for_resource(ResourceARN=arn)


def test_deleted_resources_lose_their_tags(gl, fleet):
    gl.tag_resource(ResourceARN=fleet["FleetArn"], Tags=[{"Key": "k", "Value": "v"}])
    gl.delete_fleet(FleetId=fleet["FleetId"])
    with pytest.raises(gl.exceptions.NotFoundException):
        gl.list_tags_for_resource(ResourceARN=fleet["FleetArn"])
    alias = gl.create_alias(
        Name=unique("a"), RoutingStrategy={"Type": "TERMINAL", "Message": "m"}, Tags=[{"Key": "k", "Value": "v"}]
    )["Alias"]
    gl.delete_alias(AliasId=alias["AliasId"])
    with pytest.raises(gl.exceptions.NotFoundException):
        gl.list_tags_for_resource(ResourceARN=alias["AliasArn"])
