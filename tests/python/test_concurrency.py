"""Concurrent writers to one resource: every request either succeeds or fails with an
error its operation declares, and limits hold however the requests interleave.

Bounded: 16 threads, a handful of requests each, all to the local server.
"""

import collections
import concurrent.futures
import threading

import botocore.exceptions

WRITERS = 16


def run_concurrently(server, work, calls_each):
    """Runs `work(client, writer, call)` from WRITERS threads; returns a Counter of outcomes."""
    clients = [server.client() for _ in range(WRITERS)]
    # Every round starts together, so the requests really overlap.
    barrier = threading.Barrier(WRITERS, timeout=60)

    def writer(i):
        outcomes = collections.Counter()
        for j in range(calls_each):
            barrier.wait()
            try:
                work(clients[i], i, j)
                outcomes["ok"] += 1
            except botocore.exceptions.ClientError as e:
                outcomes[e.response["Error"]["Code"]] += 1
        return outcomes

    with concurrent.futures.ThreadPoolExecutor(WRITERS) as pool:
        return sum(pool.map(writer, range(WRITERS)), collections.Counter())


def test_concurrent_runtime_configuration_updates_all_succeed(server, fleet):
    # UpdateRuntimeConfiguration declares no ConflictException: racing writers must
    # be serialised (last writer wins), never refused.
    def work(gl, i, j):
        gl.update_runtime_configuration(
            FleetId=fleet["FleetId"],
            RuntimeConfiguration={
                "ServerProcesses": [{"LaunchPath": "/local/game/srv", "Parameters": f"{i}-{j}", "ConcurrentExecutions": 1}]
            },
        )

    outcomes = run_concurrently(server, work, 10)
    assert outcomes == {"ok": WRITERS * 10}


def test_concurrent_tagging_never_exceeds_50_tags(server, gl, fleet):
    arn = fleet["FleetArn"]
    gl.tag_resource(ResourceARN=arn, Tags=[{"Key": f"base-{i}", "Value": "v"} for i in range(45)])

    def work(client, i, j):
        client.tag_resource(ResourceARN=arn, Tags=[{"Key": f"k-{i}-{j}", "Value": "v"}])

    outcomes = run_concurrently(server, work, 2)
    tags = gl.list_tags_for_resource(ResourceARN=arn)["Tags"]
    assert set(outcomes) <= {"ok", "TaggingFailedException"}
    assert len(tags) <= 50, f"{len(tags)} tags after {outcomes}"
    assert 45 + outcomes["ok"] == len(tags)
