"""SigV4 verification as AWS JSON services answer it (spec section 9)."""

import datetime

import botocore.auth
import botocore.exceptions
import pytest

from conftest import send


def error_code(call):
    with pytest.raises(botocore.exceptions.ClientError) as err:
        call()
    return err.value.response["Error"]["Code"], err.value.response["Error"]["Message"]


def test_correct_signature_is_accepted(server):
    assert server.client().list_aliases(Limit=1)["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_wrong_secret_is_an_invalid_signature(server):
    gl = server.client(secret="not-the-secret-key")
    code, message = error_code(lambda: gl.list_aliases())
    assert code == "InvalidSignatureException"
    assert "signature we calculated does not match" in message


def test_unknown_access_key_is_an_unrecognized_client(server):
    gl = server.client(access_key="AKIAUNKNOWNKEY000000")
    code, message = error_code(lambda: gl.list_aliases())
    assert code == "UnrecognizedClientException"
    assert message == "The security token included in the request is invalid."


def test_request_signed_for_another_region_is_an_invalid_signature(server):
    gl = server.client(region="eu-west-1")
    code, message = error_code(lambda: gl.list_aliases())
    assert code == "InvalidSignatureException"
    assert "eu-west-1" in message


def test_request_signed_for_another_service_is_an_invalid_signature(server):
    raw = send(server, "GameLift.ListAliases", service="dynamodb")
    assert (raw.status, raw.code) == (400, "InvalidSignatureException")
    assert "gamelift" in raw.message


def skewed_clock(monkeypatch, offset):
    real = botocore.auth.get_current_datetime
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: real(*a, **k) + offset)


def test_request_signed_20_minutes_ago_is_expired(server, monkeypatch):
    gl = server.client()
    skewed_clock(monkeypatch, -datetime.timedelta(minutes=20))
    code, message = error_code(lambda: gl.list_aliases())
    assert code == "InvalidSignatureException"
    assert message.startswith("Signature expired")


def test_request_signed_20_minutes_ahead_is_not_yet_current(server, monkeypatch):
    gl = server.client()
    skewed_clock(monkeypatch, datetime.timedelta(minutes=20))
    code, message = error_code(lambda: gl.list_aliases())
    assert code == "InvalidSignatureException"
    assert message.startswith("Signature not yet current")


def test_request_signed_within_the_15_minute_window_is_accepted(server, monkeypatch):
    gl = server.client()
    skewed_clock(monkeypatch, -datetime.timedelta(minutes=10))
    assert gl.list_aliases(Limit=1)["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_raw_request_with_an_old_x_amz_date_is_expired(server, monkeypatch):
    old = datetime.datetime(2020, 1, 1, 12, 0, 0)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: old)
    raw = send(server, "GameLift.ListAliases")
    assert (raw.status, raw.code) == (400, "InvalidSignatureException")
    assert "20200101T120000Z" in raw.message


def test_missing_authorization_is_a_missing_authentication_token(server):
    raw = send(server, "GameLift.ListAliases", sign=False)
    assert (raw.status, raw.code) == (400, "MissingAuthenticationTokenException")


def test_authorization_without_signature_is_incomplete(server):
    def strip_signature(headers, body):
        headers["Authorization"] = headers["Authorization"].split(", Signature=")[0]
        return body

    raw = send(server, "GameLift.ListAliases", after_sign=strip_signature)
    assert (raw.status, raw.code) == (400, "IncompleteSignatureException")


def test_body_changed_after_signing_is_an_invalid_signature(server):
    raw = send(server, "GameLift.ListAliases", {"Limit": 1}, after_sign=lambda h, b: b.replace(b"1", b"2"))
    assert (raw.status, raw.code) == (400, "InvalidSignatureException")


def test_target_changed_after_signing_is_an_invalid_signature(server):
    def retarget(headers, body):
        headers["X-Amz-Target"] = "GameLift.ListFleets"
        return body

    raw = send(server, "GameLift.ListAliases", after_sign=retarget)
    assert (raw.status, raw.code) == (400, "InvalidSignatureException")


def test_session_token_on_long_term_key_is_unrecognized(server):
    import boto3

    ak, sk = server.credentials()
    gl = boto3.client(
        "gamelift",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=ak,
        aws_secret_access_key=sk,
        aws_session_token="some-session-token",
    )
    code, _ = error_code(lambda: gl.list_aliases())
    assert code == "UnrecognizedClientException"


def test_authentication_runs_before_routing(server):
    raw = send(server, "GameLift.NoSuchOperation", secret="wrong")
    assert raw.code == "InvalidSignatureException"
    raw = send(server, "GameLift.NoSuchOperation", sign=False)
    assert raw.code == "MissingAuthenticationTokenException"


def test_host_must_be_a_signed_header(server):
    def unsign_host(headers, body):
        headers["Authorization"] = headers["Authorization"].replace("SignedHeaders=content-type;host;", "SignedHeaders=content-type;")
        return body

    raw = send(server, "GameLift.ListAliases", after_sign=unsign_host)
    assert (raw.status, raw.code) == (400, "IncompleteSignatureException")


def test_scope_date_must_match_x_amz_date(server):
    def shift_scope_date(headers, body):
        day = headers["X-Amz-Date"][:8]
        headers["Authorization"] = headers["Authorization"].replace(f"/{day}/", "/20200101/")
        return body

    raw = send(server, "GameLift.ListAliases", after_sign=shift_scope_date)
    assert (raw.status, raw.code) == (400, "InvalidSignatureException")


def test_a_target_left_out_of_the_signature_cannot_retarget_a_request(server, gl, fleet):
    """A request signed without X-Amz-Target, sent as DeleteFleet, is refused and logged."""

    def retarget(headers, body):
        headers["X-Amz-Target"] = "GameLift.DeleteFleet"
        return body

    raw = send(server, None, {"FleetId": fleet["FleetId"]}, after_sign=retarget)
    assert (raw.status, raw.code) == (400, "IncompleteSignatureException")
    assert "'x-amz-target' must be a 'SignedHeader'" in raw.message
    attributes = gl.describe_fleet_attributes(FleetIds=[fleet["FleetId"]])["FleetAttributes"]
    assert attributes[0]["Status"] == "ACTIVE"
    access_key, _ = server.credentials()
    refusals = [line for line in server.log.splitlines() if "x-amz-target" in line and "request refused" in line]
    assert refusals and access_key in refusals[-1], server.log[-2000:]


def test_a_content_type_left_out_of_the_signature_is_refused(server):
    def add_content_type(headers, body):
        headers["Content-Type"] = "application/x-amz-json-1.1"
        return body

    raw = send(server, "GameLift.ListAliases", headers={"Content-Type": None}, after_sign=add_content_type)
    assert (raw.status, raw.code) == (400, "IncompleteSignatureException")
    assert "'content-type'" in raw.message
