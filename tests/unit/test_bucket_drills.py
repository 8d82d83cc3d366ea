"""Reading drill results back from the bucket: the bucket's facts (time, versions) beside each body.

A stand-in client answers the three calls ``latest_drills`` makes; whether to believe a result is
``pgvault.core.drill.sort_out``'s (tests/unit/test_drill.py, tests/unit/test_status.py).
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

from botocore.exceptions import ClientError

from pgvault.edges.bucket import latest_drills
from tests.builders import make_stack

T = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class _Pages:
    def __init__(self, pages):
        self.pages = pages

    def paginate(self, **_):
        if isinstance(self.pages, Exception):
            raise self.pages
        return iter(self.pages)


class _Bucket:
    """Objects ``key -> (body, LastModified, versions)``; versions unlisted when ``versions_denied``."""

    def __init__(self, objects: dict, versions_denied: bool = False):
        self.objects, self.versions_denied = objects, versions_denied

    def get_paginator(self, name):
        if name == "list_objects_v2":
            return _Pages([{"Contents": [{"Key": k, "LastModified": at} for k, (_, at, _) in self.objects.items()]}])
        if self.versions_denied:
            return _Pages(ClientError({"Error": {"Code": "AccessDenied"}}, "ListObjectVersions"))
        return _Pages([{"Versions": [{"Key": k} for k, (_, _, n) in self.objects.items() for _ in range(n)]}])

    def get_object(self, Bucket, Key):
        return {"Body": io.BytesIO(self.objects[Key][0])}


def _body(finished: str, passed: bool = True) -> bytes:
    return json.dumps({"finished": finished, "passed": passed}).encode()


def test_results_come_newest_first_by_the_buckets_time_with_its_facts():
    cfg = make_stack()
    client = _Bucket({
        "drills/crm/9999-12-31T000000-forged.json": (_body("9999-12-31T00:00:00+00:00"), T, 1),
        "drills/crm/2026-11-30T130000-drill.json": (_body("2026-11-30T13:00:00+00:00", False),
                                                    T + timedelta(hours=1), 2),
        "drills/crm/garbage.json": (b"not json", T - timedelta(hours=1), 1),
    })
    found = latest_drills(client, cfg)
    assert [d["stored"]["key"] for d in found] == ["drills/crm/2026-11-30T130000-drill.json",
                                                   "drills/crm/9999-12-31T000000-forged.json",
                                                   "drills/crm/garbage.json"]
    assert found[0]["stored"] == {"key": "drills/crm/2026-11-30T130000-drill.json",
                                  "at": (T + timedelta(hours=1)).isoformat(), "versions": 2}
    assert found[0]["passed"] is False
    assert found[2]["stored"]["invalid"] == "the body is not a JSON object" and "passed" not in found[2]


def test_a_body_cannot_set_the_buckets_facts():
    forged = json.dumps({"finished": "2026-11-30T12:00:00+00:00", "passed": True,
                         "stored": {"at": "9999-01-01T00:00:00+00:00", "versions": 1}}).encode()
    found, = latest_drills(_Bucket({"drills/crm/a.json": (forged, T, 1)}), make_stack())
    assert found["stored"]["at"] == T.isoformat()


def test_keys_that_cannot_list_versions_leave_the_count_unknown():
    found, = latest_drills(_Bucket({"drills/crm/a.json": (_body(T.isoformat()), T, 1)}, versions_denied=True),
                           make_stack())
    assert found["stored"]["versions"] is None
