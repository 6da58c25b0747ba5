"""Generated credentials and the AWS CLI: the README's first-session flow.

A server started with no credentials configured writes `<data-dir>/credentials`
(an AWS shared-credentials file, mode 0600); the AWS CLI pointed at that file and the
server's endpoint works with no other setup, and the secret never reaches the log.
"""

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REGION, TEST_SECRET_ACCESS_KEY, Server, assert_clean_stop, unique


def aws_cli() -> str:
    beside_python = Path(sys.executable).parent / "aws"
    found = str(beside_python) if beside_python.exists() else shutil.which("aws")
    assert found, "the AWS CLI (awscli) is not installed"
    return found


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A server that had to generate its own credentials."""
    srv = Server(tmp_path_factory.mktemp("generated") / "data").start()
    yield srv
    if srv.running():
        assert_clean_stop(srv)


def run_cli(srv: Server, *args: str) -> subprocess.CompletedProcess:
    """`aws gamelift ARGS` set up exactly as the README's first session:
    `export AWS_SHARED_CREDENTIALS_FILE=<data-dir>/credentials AWS_DEFAULT_REGION=us-east-1`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(srv.data_dir / "credentials")
    env["AWS_CONFIG_FILE"] = os.devnull
    env["AWS_DEFAULT_REGION"] = REGION
    cmd = [aws_cli(), "gamelift", *args, "--endpoint-url", srv.endpoint]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def cli_json(srv: Server, *args: str) -> dict:
    done = run_cli(srv, *args, "--output", "json")
    assert done.returncode == 0, f"aws gamelift {' '.join(args)} failed:\n{done.stderr}"
    return json.loads(done.stdout)


def test_generated_credentials_file_is_private_and_in_aws_format(generated):
    path = generated.data_dir / "credentials"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert text.startswith("[default]\n")
    access_key, secret = generated.credentials()
    assert access_key.startswith("AKIA") and len(access_key) == 20
    assert len(secret) == 40


def test_readme_first_session_works_with_the_aws_cli_and_generated_credentials(generated):
    location = unique("custom-home-lab-")
    assert cli_json(generated, "create-location", "--location-name", location)["Location"]["LocationName"] == location
    created = cli_json(
        generated, "create-fleet", "--name", "arena", "--compute-type", "ANYWHERE", "--locations", f"Location={location}"
    )
    fleet_id = created["FleetAttributes"]["FleetId"]
    listed = run_cli(generated, "list-fleets", "--query", "FleetIds[0]", "--output", "text")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.strip() == fleet_id
    compute = cli_json(
        generated, "register-compute", "--fleet-id", fleet_id, "--compute-name", "rig-1",
        "--ip-address", "192.168.1.20", "--location", location,
    )
    assert compute["Compute"]["ComputeStatus"] == "ACTIVE"
    token = cli_json(generated, "get-compute-auth-token", "--fleet-id", fleet_id, "--compute-name", "rig-1")
    assert token["AuthToken"] and token["ExpirationTimestamp"]
    alias = cli_json(generated, "create-alias", "--name", "live", "--routing-strategy", f"Type=SIMPLE,FleetId={fleet_id}")
    assert alias["Alias"]["RoutingStrategy"] == {"Type": "SIMPLE", "FleetId": fleet_id}
    events = cli_json(generated, "describe-fleet-events", "--fleet-id", fleet_id)["Events"]
    assert {"FLEET_CREATED", "FLEET_STATE_ACTIVE"} <= {e["EventCode"] for e in events}


def test_aws_cli_reports_service_errors_by_code(generated):
    location = unique("custom-cli-")
    cli_json(generated, "create-location", "--location-name", location, "--region", REGION)
    again = run_cli(generated, "create-location", "--location-name", location, "--region", REGION)
    assert again.returncode != 0
    assert "ConflictException" in again.stderr


def test_generated_secret_never_appears_in_the_log(generated):
    generated.client().list_aliases()
    _, secret = generated.credentials()
    access_key, _ = generated.credentials()
    assert access_key in generated.log  # the key ID is shown so operators can find it
    assert secret not in generated.log


def test_restart_reuses_the_generated_credentials(generated):
    before = generated.credentials()
    assert_clean_stop(generated)
    generated.start()
    assert generated.credentials() == before
    assert "using credentials stored in the data dir" in generated.log
    assert generated.client().list_aliases()["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert before[1] not in generated.log


def test_configured_secret_never_appears_in_the_log(server, gl):
    gl.list_aliases()
    with pytest.raises(gl.exceptions.NotFoundException):
        gl.describe_alias(AliasId="alias-00000000-0000-0000-0000-000000000000")
    assert "ready" in server.log
    assert TEST_SECRET_ACCESS_KEY not in server.log
    assert not (server.data_dir / "credentials").exists()
