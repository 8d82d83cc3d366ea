"""Every upload pgvault sends carries a checksum: S3 refuses one without it into an Object Lock bucket.

SeaweedFS accepts such a put, so the sandbox cannot show the refusal; these
tests look at the requests themselves.  A ``before-send`` hook on boto3's
default session answers each request in place, so nothing leaves the process.
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError

from pgvault.actions import drill
from pgvault.core.bucket import drills_prefix
from pgvault.core.errors import ExitCode, PgvaultError
from pgvault.core.secrets import RESTORE_S3_KEY, RESTORE_S3_KEY_SECRET, S3_KEY, S3_KEY_SECRET
from pgvault.edges import remote
from pgvault.edges.cloud import s3_client
from tests.builders import make_stack

#: request headers that carry a body checksum S3 verifies
CHECKSUM_HEADERS = ("content-md5", "x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-crc64nvme",
                    "x-amz-checksum-sha1", "x-amz-checksum-sha256")


class _Empty:
    def stream(self, **_):
        yield b""


@pytest.fixture
def sent(monkeypatch):
    """The (operation, headers) of each S3 request made through boto3's default session, answered locally."""
    requests: list[tuple[str, dict]] = []

    def answer(request, **kwargs):
        headers = {k.lower(): (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()}
        requests.append((kwargs["event_name"].rsplit(".", 1)[-1], headers))
        return AWSResponse(request.url, 200, {"ETag": '"0"'}, _Empty())

    session = boto3.session.Session()
    session.events.register("before-send.s3", answer)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)
    monkeypatch.setenv(S3_KEY, "AKIATEST")
    monkeypatch.setenv(S3_KEY_SECRET, "not-a-secret")
    return requests


def _has_checksum(headers: dict) -> bool:
    trailer = headers.get("x-amz-trailer", "")
    return any(h in headers for h in CHECKSUM_HEADERS) or trailer.startswith("x-amz-checksum-")


def test_put_object_and_upload_part_carry_a_checksum(sent):
    client = s3_client(make_stack())
    client.put_object(Bucket="acme-crm-backups", Key="logical/crm/x.json", Body=b"{}")
    client.upload_part(Bucket="acme-crm-backups", Key="logical/crm/x.dump", UploadId="u", PartNumber=1,
                       Body=b"x" * 1024)
    assert [op for op, _ in sent] == ["PutObject", "UploadPart"]
    assert all(_has_checksum(headers) for _, headers in sent), sent


def test_a_drill_result_is_stored_with_a_checksum(sent):
    cfg = make_stack()
    drill._store(cfg, {"finished": "2026-11-30T10:00:00+00:00", "name": "drill-1", "passed": True}, None, cfg)
    (op, headers), = sent
    assert op == "PutObject" and _has_checksum(headers), headers


STAGING = {"name": "stage1", "address": "stage1.example.internal", "role": "staging"}


def test_a_staging_hosts_drill_result_goes_to_the_bucket_with_its_restore_keys(sent, monkeypatch):
    """A staging host holds the restore keys only; their one write is this put below drills/<stanza>/."""
    monkeypatch.setenv(RESTORE_S3_KEY, "AKIARESTORE")
    monkeypatch.setenv(RESTORE_S3_KEY_SECRET, "not-a-secret-either")
    view = make_stack(hosts=[{"name": "db1", "address": "db1.example.internal"}, STAGING]).on("stage1")
    key = drill._store(view, {"finished": "2026-11-30T10:00:00+00:00", "name": "drill-1", "passed": True}, None, view)
    (op, headers), = sent
    assert op == "PutObject" and "Credential=AKIARESTORE/" in headers["authorization"], headers["authorization"]
    assert key.startswith(drills_prefix(view)) and key.endswith("-drill-1.json")


def _refusing(monkeypatch, answer) -> list:
    """Every S3 request answered by ``answer(request)``; the files the drill keeps on the host instead, recorded."""
    session = boto3.session.Session()
    session.events.register("before-send.s3", lambda request, **_: answer(request))
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)
    monkeypatch.setenv(RESTORE_S3_KEY, "AKIARESTORE")
    monkeypatch.setenv(RESTORE_S3_KEY_SECRET, "not-a-secret-either")
    kept: list = []
    monkeypatch.setattr(remote, "ensure_dir", lambda conn, target: kept.append(target))
    monkeypatch.setattr(remote, "put_file", lambda conn, target: kept.append(target))
    return kept


def _denied(request):
    body = b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
    return AWSResponse(request.url, 403, {}, _Body(body))


def _unreachable(request):
    raise EndpointConnectionError(endpoint_url=request.url)


def _drill(passed: bool) -> dict:
    checks = [{"name": "accepts connections", "passed": True, "detail": ""},
              {"name": "canaries", "passed": passed, "detail": ""}]
    return {"finished": "2026-11-30T10:00:00+00:00", "name": "drill-1", "host": "stage1", "passed": passed,
            "checks": checks}


def _stored_or_settled(view, result: dict) -> PgvaultError:
    assert drill._store(view, result, None, view) is None, "a refused put has no bucket key"
    with pytest.raises(PgvaultError) as settled:
        drill.settle(result, view.repository.bucket)
    return settled.value


STAGE = make_stack(hosts=[{"name": "db1", "address": "db1.example.internal"}, STAGING]).on("stage1")


def test_a_refused_passing_result_is_kept_on_the_host_and_exits_1_naming_the_grant(monkeypatch):
    kept = _refusing(monkeypatch, _denied)
    result = _drill(passed=True)
    error = _stored_or_settled(STAGE, result)
    line = error.one_line()
    assert "\n" not in line and error.code == ExitCode.FAILED
    assert "drill drill-1 passed but the bucket refused its result" in line and "AccessDenied" in line
    assert "the restore keys" in line and f"s3:PutObject on {drills_prefix(STAGE)}*" in line, line
    path = f"{STAGE.jobs.state_dir}/drills/drill-1.json"
    assert f"kept at {path} on stage1" in line and "not-a-secret" not in line
    folder, file = kept
    assert (folder.path, folder.mode, folder.owner) == (f"{STAGE.jobs.state_dir}/drills", 0o750, "postgres")
    assert (file.path, file.mode, file.owner) == (path, 0o640, "postgres")
    assert json.loads(file.content)["not_stored"]["code"] == ExitCode.FAILED


def test_a_failed_drill_whose_result_the_bucket_refused_exits_7_naming_both(monkeypatch):
    """The failed checks are the news; the refusal and where the result is are said with them."""
    kept = _refusing(monkeypatch, _denied)
    error = _stored_or_settled(STAGE, _drill(passed=False))
    line = error.one_line()
    assert error.code == ExitCode.VERIFY, line
    assert line.startswith("drill drill-1 failed: canaries; its result is at none in the bucket, which refused it")
    assert "AccessDenied" in line and "kept at /var/lib/pgvault/drills/drill-1.json on stage1" in line, line
    assert f"s3:PutObject on {drills_prefix(STAGE)}*" in line
    assert json.loads(kept[-1].content)["passed"] is False


def test_an_unreachable_endpoint_exits_5_and_keeps_the_result(monkeypatch):
    kept = _refusing(monkeypatch, _unreachable)
    error = _stored_or_settled(STAGE, _drill(passed=True))
    assert error.code == ExitCode.UNREACHABLE and "fix the endpoint" in error.one_line(), error.one_line()
    assert kept and kept[-1].path.endswith("/drills/drill-1.json")


def test_a_stored_failed_drill_exits_7_pointing_at_the_bucket():
    result = {**_drill(passed=False), "key": "drills/crm/x.json"}
    with pytest.raises(PgvaultError) as settled:
        drill.settle(result, "acme-crm-backups")
    assert settled.value.code == ExitCode.VERIFY
    assert "its result is at s3://acme-crm-backups/drills/crm/x.json" in settled.value.one_line()
    drill.settle({**_drill(passed=True), "key": "drills/crm/x.json"}, "acme-crm-backups")


class _Body:
    def __init__(self, data: bytes):
        self.data = data

    def stream(self, **_):
        yield self.data
