"""botocore paginators over several pages, and NextToken integrity (spec section 8)."""

import pytest

from conftest import make_fleet, make_location, register, unique


def pages(paginator, **kwargs):
    return list(paginator.paginate(PaginationConfig={"PageSize": 2}, **kwargs))


def assert_paged(result_pages, key):
    """More than one page; every page but the last carries a NextToken, the last none."""
    assert len(result_pages) > 1
    assert all("NextToken" in p for p in result_pages[:-1])
    assert "NextToken" not in result_pages[-1]
    assert all(len(p[key]) <= 2 for p in result_pages)


def test_list_aliases_paginator_walks_every_page(gl):
    name = unique("paged ")
    created = {gl.create_alias(Name=name, RoutingStrategy={"Type": "TERMINAL", "Message": "m"})["Alias"]["AliasId"] for _ in range(5)}
    result = pages(gl.get_paginator("list_aliases"), Name=name)
    assert_paged(result, "Aliases")
    assert len(result) == 3
    listed = [a["AliasId"] for p in result for a in p["Aliases"]]
    assert sorted(listed) == sorted(created)


def test_describe_fleet_attributes_paginator_walks_every_page(gl, location):
    created = {make_fleet(gl, [location])["FleetId"] for _ in range(3)}
    result = pages(gl.get_paginator("describe_fleet_attributes"))
    assert_paged(result, "FleetAttributes")
    listed = [f["FleetId"] for p in result for f in p["FleetAttributes"]]
    assert len(listed) == len(set(listed))
    assert created <= set(listed)


def test_list_fleets_paginator_walks_every_page(gl, location):
    created = {make_fleet(gl, [location])["FleetId"] for _ in range(3)}
    result = pages(gl.get_paginator("list_fleets"))
    assert_paged(result, "FleetIds")
    listed = [f for p in result for f in p["FleetIds"]]
    assert len(listed) == len(set(listed))
    assert created <= set(listed)


def test_list_compute_paginator_walks_every_page(gl, fleet):
    created = {register(gl, fleet)["ComputeName"] for _ in range(5)}
    result = pages(gl.get_paginator("list_compute"), FleetId=fleet["FleetId"])
    assert_paged(result, "ComputeList")
    assert len(result) == 3
    assert sorted(c["ComputeName"] for p in result for c in p["ComputeList"]) == sorted(created)


def test_describe_fleet_events_paginator_walks_every_page_newest_first(gl, fleet):
    for i in range(3):
        gl.update_fleet_attributes(FleetId=fleet["FleetId"], Name=f"name {i}")
    result = pages(gl.get_paginator("describe_fleet_events"), FleetId=fleet["FleetId"])
    assert_paged(result, "Events")
    listed = [e for p in result for e in p["Events"]]
    assert len(listed) == 5
    assert len({e["EventId"] for e in listed}) == 5
    assert [e["EventCode"] for e in listed][-2:] == ["FLEET_STATE_ACTIVE", "FLEET_CREATED"]
    times = [e["EventTime"] for e in listed]
    assert times == sorted(times, reverse=True)


def test_list_locations_paginator_walks_every_page(gl):
    created = {make_location(gl) for _ in range(3)}
    result = pages(gl.get_paginator("list_locations"))
    assert_paged(result, "Locations")
    listed = [l["LocationName"] for p in result for l in p["Locations"]]
    assert len(listed) == len(set(listed))
    assert created <= set(listed)


def test_limit_above_the_server_cap_is_clamped_not_refused(gl, fleet):
    out = gl.list_fleets(Limit=100000)
    assert len(out["FleetIds"]) <= 100


def test_tampered_next_token_is_refused(gl, location):
    for _ in range(2):
        make_fleet(gl, [location])
    token = gl.list_fleets(Limit=1)["NextToken"]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    with pytest.raises(gl.exceptions.InvalidRequestException) as err:
        gl.list_fleets(Limit=1, NextToken=tampered)
    assert "NextToken" in err.value.response["Error"]["Message"]
    with pytest.raises(gl.exceptions.InvalidRequestException):
        gl.list_fleets(Limit=1, NextToken="not-a-token")


def test_next_token_of_one_listing_is_refused_by_another(gl, location):
    for _ in range(2):
        make_fleet(gl, [location])
    token = gl.list_fleets(Limit=1)["NextToken"]
    gl.list_fleets(Limit=1, NextToken=token)
    with pytest.raises(gl.exceptions.InvalidRequestException):
        gl.describe_fleet_attributes(Limit=1, NextToken=token)


def test_next_token_is_bound_to_its_filters(gl):
    name = unique("bound ")
    for _ in range(2):
        gl.create_alias(Name=name, RoutingStrategy={"Type": "TERMINAL", "Message": "m"})
    token = gl.list_aliases(Name=name, Limit=1)["NextToken"]
    assert len(gl.list_aliases(Name=name, Limit=1, NextToken=token)["Aliases"]) == 1
    with pytest.raises(gl.exceptions.InvalidRequestException):
        gl.list_aliases(Name=unique("other "), Limit=1, NextToken=token)
