"""CreateAlias, DescribeAlias, ListAliases, UpdateAlias, DeleteAlias, ResolveAlias (spec 7.7)."""

import datetime
import re

import pytest

from conftest import REGION, make_fleet, unique

UNKNOWN_FLEET = "fleet-00000000-0000-0000-0000-000000000000"
UNKNOWN_ALIAS = "alias-00000000-0000-0000-0000-000000000000"


def simple(fleet_id):
    return {"Type": "SIMPLE", "FleetId": fleet_id}


def terminal(message="closed for maintenance"):
    return {"Type": "TERMINAL", "Message": message}


def test_simple_alias_has_id_arn_without_account_and_times(gl, fleet):
    name = unique("alias ")
    alias = gl.create_alias(Name=name, Description="d", RoutingStrategy=simple(fleet["FleetId"]))["Alias"]
    assert re.fullmatch(r"alias-[0-9a-f-]{36}", alias["AliasId"])
    assert alias["AliasArn"] == f"arn:aws:gamelift:{REGION}::alias/{alias['AliasId']}"
    assert alias["Name"] == name
    assert alias["Description"] == "d"
    assert alias["RoutingStrategy"] == simple(fleet["FleetId"])
    assert isinstance(alias["CreationTime"], datetime.datetime)
    assert alias["LastUpdatedTime"] == alias["CreationTime"]


def test_terminal_alias_drops_a_given_fleet_id(gl, fleet):
    strategy = dict(terminal(), FleetId=fleet["FleetId"])
    alias = gl.create_alias(Name=unique("t"), RoutingStrategy=strategy)["Alias"]
    assert alias["RoutingStrategy"] == terminal()
    assert gl.describe_alias(AliasId=alias["AliasId"])["Alias"]["RoutingStrategy"] == terminal()


def test_simple_alias_needs_an_existing_fleet(gl):
    with pytest.raises(gl.exceptions.InvalidRequestException):
        gl.create_alias(Name=unique("a"), RoutingStrategy={"Type": "SIMPLE"})
    with pytest.raises(gl.exceptions.InvalidRequestException):
        gl.create_alias(Name=unique("a"), RoutingStrategy=simple(UNKNOWN_FLEET))


def test_alias_name_of_only_whitespace_fails_validation(gl):
    with pytest.raises(gl.exceptions.InvalidRequestException) as err:
        gl.create_alias(Name="   ", RoutingStrategy=terminal())
    assert "at 'name'" in err.value.response["Error"]["Message"]


def test_alias_names_need_not_be_unique(gl):
    name = unique("same ")
    a = gl.create_alias(Name=name, RoutingStrategy=terminal())["Alias"]
    b = gl.create_alias(Name=name, RoutingStrategy=terminal())["Alias"]
    assert a["AliasId"] != b["AliasId"]


def test_describe_alias_by_id_and_arn(gl):
    alias = gl.create_alias(Name=unique("a"), RoutingStrategy=terminal())["Alias"]
    assert gl.describe_alias(AliasId=alias["AliasId"])["Alias"] == alias
    assert gl.describe_alias(AliasId=alias["AliasArn"])["Alias"] == alias


def test_describe_unknown_alias_is_not_found(gl):
    with pytest.raises(gl.exceptions.NotFoundException):
        gl.describe_alias(AliasId=UNKNOWN_ALIAS)


def test_list_aliases_filters_by_name_and_routing_type(gl, fleet):
    name = unique("listed ")
    s = gl.create_alias(Name=name, RoutingStrategy=simple(fleet["FleetId"]))["Alias"]
    t = gl.create_alias(Name=name, RoutingStrategy=terminal())["Alias"]
    by_name = gl.list_aliases(Name=name)["Aliases"]
    assert sorted(a["AliasId"] for a in by_name) == sorted([s["AliasId"], t["AliasId"]])
    assert [a["AliasId"] for a in gl.list_aliases(Name=name, RoutingStrategyType="SIMPLE")["Aliases"]] == [s["AliasId"]]
    assert [a["AliasId"] for a in gl.list_aliases(Name=name, RoutingStrategyType="TERMINAL")["Aliases"]] == [t["AliasId"]]
    everything = [a["AliasId"] for a in gl.get_paginator("list_aliases").paginate().search("Aliases")]
    assert s["AliasId"] in everything and t["AliasId"] in everything


def test_update_alias_changes_fields_and_moves_last_updated_time(gl, fleet):
    other = make_fleet(gl, [fleet["Location"]])
    alias = gl.create_alias(Name=unique("u"), RoutingStrategy=simple(fleet["FleetId"]))["Alias"]
    updated = gl.update_alias(
        AliasId=alias["AliasArn"], Name="new name", Description="new", RoutingStrategy=simple(other["FleetId"])
    )["Alias"]
    assert updated["AliasId"] == alias["AliasId"]
    assert updated["Name"] == "new name"
    assert updated["Description"] == "new"
    assert updated["RoutingStrategy"] == simple(other["FleetId"])
    assert updated["CreationTime"] == alias["CreationTime"]
    assert updated["LastUpdatedTime"] >= alias["LastUpdatedTime"]
    assert gl.describe_alias(AliasId=alias["AliasId"])["Alias"] == updated
    assert gl.resolve_alias(AliasId=alias["AliasId"])["FleetId"] == other["FleetId"]


def test_update_alias_to_terminal_drops_the_fleet(gl, fleet):
    alias = gl.create_alias(Name=unique("u"), RoutingStrategy=simple(fleet["FleetId"]))["Alias"]
    updated = gl.update_alias(AliasId=alias["AliasId"], RoutingStrategy=dict(terminal("bye"), FleetId=fleet["FleetId"]))
    assert updated["Alias"]["RoutingStrategy"] == terminal("bye")


def test_update_alias_errors(gl, fleet):
    with pytest.raises(gl.exceptions.NotFoundException):
        gl.update_alias(AliasId=UNKNOWN_ALIAS, Name="x")
    alias = gl.create_alias(Name=unique("u"), RoutingStrategy=simple(fleet["FleetId"]))["Alias"]
    with pytest.raises(gl.exceptions.NotFoundException):
        gl.update_alias(AliasId=alias["AliasId"], RoutingStrategy=simple(UNKNOWN_FLEET))


def test_resolve_simple_alias_returns_fleet_id_and_arn(gl, fleet):
    alias = gl.create_alias(Name=unique("r"), RoutingStrategy=simple(fleet["FleetId"]))["Alias"]
    out = gl.resolve_alias(AliasId=alias["AliasId"])
    assert out["FleetId"] == fleet["FleetId"]
    assert out["FleetArn"] == fleet["FleetArn"]


def test_resolve_terminal_alias_raises_its_message(gl):
    alias = gl.create_alias(Name=unique("r"), RoutingStrategy=terminal("Game over, come back tomorrow"))["Alias"]
    with pytest.raises(gl.exceptions.TerminalRoutingStrategyException) as err:
        gl.resolve_alias(AliasId=alias["AliasId"])
    assert err.value.response["Error"]["Message"] == "Game over, come back tomorrow"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_resolve_unknown_alias_is_not_found(gl):
    with pytest.raises(gl.exceptions.NotFoundException):
        gl.resolve_alias(AliasId=UNKNOWN_ALIAS)


def test_deleted_alias_is_gone(gl):
    alias = gl.create_alias(Name=unique("d"), RoutingStrategy=terminal())["Alias"]
    out = gl.delete_alias(AliasId=alias["AliasId"])
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    for call in (gl.describe_alias, gl.resolve_alias, gl.delete_alias):
        with pytest.raises(gl.exceptions.NotFoundException):
            call(AliasId=alias["AliasId"])
    assert gl.list_aliases(Name=alias["Name"])["Aliases"] == []


def test_create_alias_with_reserved_tag_key_fails_tagging(gl):
    with pytest.raises(gl.exceptions.TaggingFailedException):
        gl.create_alias(Name=unique("t"), RoutingStrategy=terminal(), Tags=[{"Key": "aws:k", "Value": "v"}])
