"""Every upload pgvault sends carries a checksum: S3 refuses one without it into an Object Lock bucket.

SeaweedFS accepts such a put, so the sandbox cannot show the refusal; these
tests look at the requests themselves.  A ``before-send`` hook on boto3's
default session answers each request in place, so nothing leaves the process.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from pgvault.actions import drill
from pgvault.core.bucket import drills_prefix
from pgvault.core.errors import ExitCode, PgvaultError
from pgvault.core.secrets import RESTORE_S3_KEY, RESTORE_S3_KEY_SECRET, S3_KEY, S3_KEY_SECRET
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
    drill._store(make_stack(), {"finished": "2026-11-30T10:00:00+00:00", "name": "drill-1", "passed": True})
    (op, headers), = sent
    assert op == "PutObject" and _has_checksum(headers), headers


STAGING = {"name": "stage1", "address": "stage1.example.internal", "role": "staging"}


def test_a_staging_hosts_drill_result_goes_to_the_bucket_with_its_restore_keys(sent, monkeypatch):
    """A staging host holds the restore keys only; their one write is this put below drills/<stanza>/."""
    monkeypatch.setenv(RESTORE_S3_KEY, "AKIARESTORE")
    monkeypatch.setenv(RESTORE_S3_KEY_SECRET, "not-a-secret-either")
    view = make_stack(hosts=[{"name": "db1", "address": "db1.example.internal"}, STAGING]).on("stage1")
    key = drill._store(view, {"finished": "2026-11-30T10:00:00+00:00", "name": "drill-1", "passed": True})
    (op, headers), = sent
    assert op == "PutObject" and "Credential=AKIARESTORE/" in headers["authorization"], headers["authorization"]
    assert key.startswith(drills_prefix(view)) and key.endswith("-drill-1.json")


def test_a_refused_drill_result_is_one_line_naming_the_grant(monkeypatch):
    def refuse(request, **kwargs):
        body = (b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>")
        return AWSResponse(request.url, 403, {}, _Body(body))

    session = boto3.session.Session()
    session.events.register("before-send.s3", refuse)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)
    monkeypatch.setenv(RESTORE_S3_KEY, "AKIARESTORE")
    monkeypatch.setenv(RESTORE_S3_KEY_SECRET, "not-a-secret-either")
    view = make_stack(hosts=[{"name": "db1", "address": "db1.example.internal"}, STAGING]).on("stage1")
    with pytest.raises(PgvaultError) as refused:
        drill._store(view, {"finished": "2026-11-30T10:00:00+00:00", "name": "drill-1", "passed": True})
    line = refused.value.one_line()
    assert "\n" not in line and refused.value.code == ExitCode.UNREACHABLE
    assert "drill drill-1 passed but its result could not be stored" in line and "AccessDenied" in line
    assert "the restore keys" in line and f"s3:PutObject on {drills_prefix(view)}*" in line, line
    assert "not-a-secret" not in line


class _Body:
    def __init__(self, data: bytes):
        self.data = data

    def stream(self, **_):
        yield self.data
