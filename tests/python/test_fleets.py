"""Anywhere fleets: CreateFleet, DescribeFleetAttributes, ListFleets, UpdateFleetAttributes,
DeleteFleet, the runtime configuration and DescribeFleetEvents (spec sections 7.2-7.4, 7.8)."""

import datetime
import re

import pytest

from conftest import ACCOUNT_ID, REGION, make_fleet, make_location, register, unique

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def events(gl, fleet_id, **kwargs):
    return list(gl.get_paginator("describe_fleet_events").paginate(FleetId=fleet_id, **kwargs).search("Events"))


def test_anywhere_fleet_is_active_at_once_with_documented_defaults(gl, location):
    before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=5)
    out = gl.create_fleet(Name="my fleet", ComputeType="ANYWHERE", Locations=[{"Location": location}])
    attrs = out["FleetAttributes"]
    fleet_id = attrs["FleetId"]
    assert re.fullmatch(f"fleet-{UUID}", fleet_id)
    assert attrs["FleetArn"] == f"arn:aws:gamelift:{REGION}:{ACCOUNT_ID}:fleet/{fleet_id}"
    assert attrs["Name"] == "my fleet"
    assert attrs["Status"] == "ACTIVE"
    assert attrs["ComputeType"] == "ANYWHERE"
    assert attrs["NewGameSessionProtectionPolicy"] == "NoProtection"
    assert attrs["CertificateConfiguration"] == {"CertificateType": "DISABLED"}
    assert attrs["AnywhereConfiguration"] == {"Cost": "0"}
    assert isinstance(attrs["CreationTime"], datetime.datetime)
    assert before <= attrs["CreationTime"] <= datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=5)
    assert out["LocationStates"] == [
        {"Location": REGION, "Status": "ACTIVE"},
        {"Location": location, "Status": "ACTIVE"},
    ]


def test_create_fleet_keeps_given_attributes(gl, location):
    attrs = make_fleet(
        gl,
        [location],
        Description="desc",
        NewGameSessionProtectionPolicy="FullProtection",
        ResourceCreationLimitPolicy={"NewGameSessionsPerCreator": 3, "PolicyPeriodInMinutes": 15},
        MetricGroups=["mg"],
        AnywhereConfiguration={"Cost": "12.5"},
    )
    described = gl.describe_fleet_attributes(FleetIds=[attrs["FleetId"]])["FleetAttributes"][0]
    assert described == attrs
    assert described["Description"] == "desc"
    assert described["NewGameSessionProtectionPolicy"] == "FullProtection"
    assert described["ResourceCreationLimitPolicy"] == {"NewGameSessionsPerCreator": 3, "PolicyPeriodInMinutes": 15}
    assert described["MetricGroups"] == ["mg"]
    assert described["AnywhereConfiguration"] == {"Cost": "12.5"}


@pytest.mark.parametrize("compute_type", ["EC2", "CONTAINER", None])
def test_non_anywhere_fleets_are_refused(gl, location, compute_type):
    kwargs = {"ComputeType": compute_type} if compute_type else {}
    with pytest.raises(gl.exceptions.InvalidRequestException):
        gl.create_fleet(Name=unique("f"), Locations=[{"Location": location}], **kwargs)


def test_anywhere_fleet_refuses_ec2_only_parameters_by_name(gl, location):
    with pytest.raises(gl.exceptions.InvalidRequestException) as err:
        gl.create_fleet(
            Name=unique("f"), ComputeType="ANYWHERE", Locations=[{"Location": location}], EC2InstanceType="c5.large"
        )
    assert "EC2InstanceType" in err.value.response["Error"]["Message"]


def test_anywhere_fleet_needs_a_custom_location(gl):
    with pytest.raises(gl.exceptions.InvalidRequestException):
        gl.create_fleet(Name=unique("f"), ComputeType="ANYWHERE")
    with pytest.raises(gl.exceptions.InvalidRequestException):
        gl.create_fleet(Name=unique("f"), ComputeType="ANYWHERE", Locations=[{"Location": "us-west-2"}])


def test_anywhere_fleet_in_unknown_location_is_not_found(gl):
    with pytest.raises(gl.exceptions.NotFoundException):
        gl.create_fleet(Name=unique("f"), ComputeType="ANYWHERE", Locations=[{"Location": unique("custom-")}])


def test_anywhere_fleet_with_a_location_twice_is_invalid(gl, location):
    with pytest.raises(gl.exceptions.InvalidRequestException):
        gl.create_fleet(
            Name=unique("f"), ComputeType="ANYWHERE", Locations=[{"Location": location}, {"Location": location}]
        )


def test_create_fleet_reports_every_violation_at_once(gl, location):
    with pytest.raises(gl.exceptions.InvalidRequestException) as err:
        gl.create_fleet(Name="n" * 1025, Description="d" * 1025, ComputeType="ANYWHERE", Locations=[{"Location": location}])
    message = err.value.response["Error"]["Message"]
    assert message.startswith("2 validation errors detected: ")
    assert "at 'name'" in message and "at 'description'" in message


def test_create_fleet_with_reserved_tag_key_fails_tagging(gl, location):
    with pytest.raises(gl.exceptions.TaggingFailedException):
        make_fleet(gl, [location], Tags=[{"Key": "aws:x", "Value": "y"}])


def test_describe_fleet_attributes_keeps_requested_order_and_drops_unknown_ids(gl, location):
    a = make_fleet(gl, [location])
    b = make_fleet(gl, [location])
    out = gl.describe_fleet_attributes(FleetIds=[b["FleetArn"], "fleet-00000000-0000-0000-0000-000000000000", a["FleetId"]])
    assert [f["FleetId"] for f in out["FleetAttributes"]] == [b["FleetId"], a["FleetId"]]
    assert "NextToken" not in out


def test_describe_fleet_attributes_ignores_limit_when_ids_are_given(gl, location):
    a = make_fleet(gl, [location])
    b = make_fleet(gl, [location])
    out = gl.describe_fleet_attributes(FleetIds=[a["FleetId"], b["FleetId"]], Limit=1)
    assert len(out["FleetAttributes"]) == 2
    assert "NextToken" not in out


def test_describe_fleet_attributes_refuses_more_than_100_ids(gl):
    ids = [f"fleet-{i:08d}-0000-0000-0000-000000000000" for i in range(101)]
    with pytest.raises(gl.exceptions.InvalidRequestException) as err:
        gl.describe_fleet_attributes(FleetIds=ids)
    assert "100" in err.value.response["Error"]["Message"]


def test_list_fleets_includes_new_fleet_and_build_filter_matches_none(gl, fleet):
    ids = list(gl.get_paginator("list_fleets").paginate().search("FleetIds"))
    assert fleet["FleetId"] in ids
    assert gl.list_fleets(BuildId="build-1234")["FleetIds"] == []
    assert gl.list_fleets(ScriptId="script-1234")["FleetIds"] == []


def test_update_fleet_attributes_changes_what_describe_shows(gl, fleet):
    out = gl.update_fleet_attributes(
        FleetId=fleet["FleetId"],
        Name="renamed",
        Description="new description",
        ResourceCreationLimitPolicy={"NewGameSessionsPerCreator": 2, "PolicyPeriodInMinutes": 5},
        MetricGroups=["other"],
        AnywhereConfiguration={"Cost": "1.5"},
    )
    assert out["FleetId"] == fleet["FleetId"]
    assert out["FleetArn"] == fleet["FleetArn"]
    attrs = gl.describe_fleet_attributes(FleetIds=[fleet["FleetId"]])["FleetAttributes"][0]
    assert attrs["Name"] == "renamed"
    assert attrs["Description"] == "new description"
    assert attrs["ResourceCreationLimitPolicy"] == {"NewGameSessionsPerCreator": 2, "PolicyPeriodInMinutes": 5}
    assert attrs["MetricGroups"] == ["other"]
    assert attrs["AnywhereConfiguration"] == {"Cost": "1.5"}


def test_new_protection_policy_is_recorded_as_a_fleet_event(gl, fleet):
    gl.update_fleet_attributes(FleetId=fleet["FleetArn"], NewGameSessionProtectionPolicy="FullProtection")
    attrs = gl.describe_fleet_attributes(FleetIds=[fleet["FleetId"]])["FleetAttributes"][0]
    assert attrs["NewGameSessionProtectionPolicy"] == "FullProtection"
    codes = [e["EventCode"] for e in events(gl, fleet["FleetId"])]
    assert "FLEET_NEW_GAME_SESSION_PROTECTION_POLICY_UPDATED" in codes


def test_attribute_changes_are_recorded_in_one_generic_event_naming_them(gl, fleet):
    gl.update_fleet_attributes(FleetId=fleet["FleetId"], Name="n2", Description="d2")
    latest = events(gl, fleet["FleetId"])[0]
    assert latest["EventCode"] == "GENERIC_EVENT"
    assert "Name" in latest["Message"] and "Description" in latest["Message"]


def test_more_than_one_metric_group_fails_validation(gl, fleet):
    with pytest.raises(gl.exceptions.InvalidRequestException) as err:
        gl.update_fleet_attributes(FleetId=fleet["FleetId"], MetricGroups=["a", "b"])
    assert "at 'metricGroups'" in err.value.response["Error"]["Message"]


def test_update_fleet_attributes_of_unknown_fleet_is_not_found(gl):
    with pytest.raises(gl.exceptions.NotFoundException):
        gl.update_fleet_attributes(FleetId="fleet-00000000-0000-0000-0000-000000000000", Name="x")


def test_invalid_anywhere_cost_fails_validation(gl, fleet):
    with pytest.raises(gl.exceptions.InvalidRequestException) as err:
        gl.update_fleet_attributes(FleetId=fleet["FleetId"], AnywhereConfiguration={"Cost": "cheap"})
    assert "at 'anywhereConfiguration.cost'" in err.value.response["Error"]["Message"]


def test_deleted_fleet_disappears_but_keeps_its_events(gl, fleet):
    fleet_id = fleet["FleetId"]
    out = gl.delete_fleet(FleetId=fleet_id)
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert gl.describe_fleet_attributes(FleetIds=[fleet_id])["FleetAttributes"] == []
    assert fleet_id not in list(gl.get_paginator("list_fleets").paginate().search("FleetIds"))
    assert events(gl, fleet_id)[0]["EventCode"] == "FLEET_DELETED"
    with pytest.raises(gl.exceptions.NotFoundException):
        gl.delete_fleet(FleetId=fleet_id)
    with pytest.raises(gl.exceptions.NotFoundException):
        gl.update_fleet_attributes(FleetId=fleet_id, Name="x")


def test_deleting_a_fleet_deregisters_its_computes(gl, fleet):
    compute = register(gl, fleet)
    gl.delete_fleet(FleetId=fleet["FleetId"])
    with pytest.raises(gl.exceptions.NotFoundException):
        gl.describe_compute(FleetId=fleet["FleetId"], ComputeName=compute["ComputeName"])


def test_delete_fleet_of_unknown_fleet_is_not_found(gl):
    with pytest.raises(gl.exceptions.NotFoundException):
        gl.delete_fleet(FleetId="fleet-00000000-0000-0000-0000-000000000000")


RUNTIME = {"ServerProcesses": [{"LaunchPath": "/local/game/server", "Parameters": "-port 7777", "ConcurrentExecutions": 2}]}


def test_runtime_configuration_is_stored_with_documented_defaults(gl, fleet):
    out = gl.update_runtime_configuration(FleetId=fleet["FleetId"], RuntimeConfiguration=RUNTIME)
    expected = dict(RUNTIME, MaxConcurrentGameSessionActivations=2147483647, GameSessionActivationTimeoutSeconds=600)
    assert out["RuntimeConfiguration"] == expected
    assert gl.describe_runtime_configuration(FleetId=fleet["FleetArn"])["RuntimeConfiguration"] == expected
    assert any("runtime configuration" in e["Message"] for e in events(gl, fleet["FleetId"]))


def test_runtime_configuration_given_at_creation_is_described(gl, location):
    rc = dict(RUNTIME, MaxConcurrentGameSessionActivations=3, GameSessionActivationTimeoutSeconds=120)
    attrs = make_fleet(gl, [location], RuntimeConfiguration=rc)
    assert gl.describe_runtime_configuration(FleetId=attrs["FleetId"])["RuntimeConfiguration"] == rc


def test_runtime_configuration_over_50_processes_is_invalid(gl, fleet):
    rc = {"ServerProcesses": [{"LaunchPath": "/local/game/a", "ConcurrentExecutions": 30}, {"LaunchPath": "/local/game/b", "ConcurrentExecutions": 21}]}
    with pytest.raises(gl.exceptions.InvalidRequestException):
        gl.update_runtime_configuration(FleetId=fleet["FleetId"], RuntimeConfiguration=rc)


def test_runtime_configuration_of_unknown_fleet_is_not_found(gl):
    with pytest.raises(gl.exceptions.NotFoundException):
        gl.describe_runtime_configuration(FleetId="fleet-00000000-0000-0000-0000-000000000000")
    with pytest.raises(gl.exceptions.NotFoundException):
        gl.update_runtime_configuration(FleetId="fleet-00000000-0000-0000-0000-000000000000", RuntimeConfiguration=RUNTIME)


def test_runtime_configuration_of_deleted_fleet_is_empty(gl, location):
    attrs = make_fleet(gl, [location], RuntimeConfiguration=RUNTIME)
    gl.delete_fleet(FleetId=attrs["FleetId"])
    out = gl.describe_runtime_configuration(FleetId=attrs["FleetId"])
    assert "RuntimeConfiguration" not in out


def test_fleet_events_are_newest_first_with_parsed_times(gl, fleet):
    gl.update_fleet_attributes(FleetId=fleet["FleetId"], Name="renamed")
    listed = events(gl, fleet["FleetId"])
    codes = [e["EventCode"] for e in listed]
    assert codes[-2:] == ["FLEET_STATE_ACTIVE", "FLEET_CREATED"]
    assert codes[0] == "GENERIC_EVENT"
    times = [e["EventTime"] for e in listed]
    assert all(isinstance(t, datetime.datetime) for t in times)
    assert times == sorted(times, reverse=True)
    assert all(e["ResourceId"] == fleet["FleetId"] and re.fullmatch(UUID, e["EventId"]) for e in listed)


def test_fleet_events_honour_the_time_window(gl, fleet):
    created = fleet["CreationTime"]
    assert events(gl, fleet["FleetId"], EndTime=created - datetime.timedelta(hours=1)) == []
    assert events(gl, fleet["FleetId"], StartTime=created + datetime.timedelta(hours=1)) == []
    window = events(
        gl, fleet["FleetId"], StartTime=created - datetime.timedelta(minutes=1), EndTime=created + datetime.timedelta(minutes=1)
    )
    assert {e["EventCode"] for e in window} >= {"FLEET_CREATED", "FLEET_STATE_ACTIVE"}


def test_fleet_events_of_unknown_fleet_are_not_found(gl):
    with pytest.raises(gl.exceptions.NotFoundException):
        gl.describe_fleet_events(FleetId="fleet-00000000-0000-0000-0000-000000000000")


def test_fleet_in_two_locations_lists_both(gl):
    a, b = make_location(gl), make_location(gl)
    attrs = make_fleet(gl, [a, b])
    listed = gl.describe_fleet_location_attributes(FleetId=attrs["FleetId"])["LocationAttributes"]
    assert [l["LocationState"]["Location"] for l in listed] == [REGION, a, b]
