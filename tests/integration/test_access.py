"""The sandbox's S3 enforces production's access model, and pgvault lives within it.

The DB host's keys hold exactly the backup policy the Pulumi program deploys,
the restore keys exactly the restore policy (``sandbox.seaweed.policies``):
read only, but for putting drill results below ``drills/<stanza>/``.
The session's bucket is versioned with Object Lock.  Each test here asks for
something AWS would refuse and expects the refusal; the rest of the suite
shows every job working under the same keys.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from pgvault.actions import monitoring
from pgvault.core.bucket import drills_prefix, usage_categories
from pgvault.core.secrets import RESTORE_S3_KEY, RESTORE_S3_KEY_SECRET
from pgvault.edges import bucket
from pgvault.edges.cloud import s3_client
from pgvault.edges.secretstore import read_secret
from sandbox.lifecycle import admin_client
from tests.integration.helpers import connection

DENIED = "AccessDenied|Forbidden|403"


@pytest.fixture(scope="module")
def keys(configured):
    """S3 clients for the host's keys, the restore keys and the sandbox admin, plus one repository object."""
    cfg = configured.cfg
    host = s3_client(cfg)
    reader = s3_client(cfg, keys=(read_secret(cfg, RESTORE_S3_KEY).reveal(),
                                  read_secret(cfg, RESTORE_S3_KEY_SECRET).reveal()))
    listed = host.list_objects_v2(Bucket=cfg.repository.bucket, Prefix=f"{cfg.repository.repo_prefix}backup/")
    some_key = listed["Contents"][0]["Key"]
    return {"host": host, "reader": reader, "admin": admin_client(cfg), "key": some_key, "cfg": cfg}


def _refused(call, **kwargs) -> None:
    with pytest.raises(ClientError, match=DENIED):
        call(**kwargs)


def test_the_bucket_is_versioned_and_locked_like_production(keys):
    cfg, admin = keys["cfg"], keys["admin"]
    assert admin.get_bucket_versioning(Bucket=cfg.repository.bucket)["Status"] == "Enabled"
    lock = admin.get_object_lock_configuration(Bucket=cfg.repository.bucket)["ObjectLockConfiguration"]
    assert lock["Rule"]["DefaultRetention"] == {"Mode": "GOVERNANCE", "Days": cfg.storage.object_lock_days}


def test_the_hosts_keys_stay_inside_pgvaults_prefixes(keys):
    host, name = keys["host"], keys["cfg"].repository.bucket
    _refused(host.put_object, Bucket=name, Key="elsewhere/intruder", Body=b"x")
    _refused(host.get_object, Bucket=name, Key="elsewhere/anything")
    _refused(host.list_objects_v2, Bucket=name)
    _refused(host.list_objects_v2, Bucket=name, Prefix="elsewhere/")
    _refused(host.head_bucket, Bucket=name)  # authorised as a ListBucket without a prefix, as on AWS


def test_the_hosts_keys_cannot_change_the_bucket_or_delete_a_version(keys):
    host, name, key = keys["host"], keys["cfg"].repository.bucket, keys["key"]
    versions = host.list_object_versions(Bucket=name, Prefix=key)["Versions"]
    _refused(host.delete_object, Bucket=name, Key=key, VersionId=versions[0]["VersionId"])
    _refused(host.put_bucket_policy, Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": []}))
    _refused(host.put_bucket_versioning, Bucket=name, VersioningConfiguration={"Status": "Suspended"})
    _refused(host.delete_bucket_policy, Bucket=name)


def test_a_locked_version_outlives_a_delete_without_the_bypass(keys):
    admin, name, key = keys["admin"], keys["cfg"].repository.bucket, keys["key"]
    version = admin.list_object_versions(Bucket=name, Prefix=key)["Versions"][0]["VersionId"]
    _refused(admin.delete_object, Bucket=name, Key=key, VersionId=version)
    assert admin.head_object(Bucket=name, Key=key, VersionId=version)["ObjectLockMode"] == "GOVERNANCE"


def test_the_restore_keys_read_and_put_drill_results_but_never_write_elsewhere_or_delete(keys):
    """Their one write is a put below ``drills/<stanza>/`` (a staging host's drill stores its result there)."""
    reader, name, key, cfg = keys["reader"], keys["cfg"].repository.bucket, keys["key"], keys["cfg"]
    assert reader.get_object(Bucket=name, Key=key)["Body"].read() is not None
    assert reader.list_objects_v2(Bucket=name, Prefix=cfg.repository.repo_prefix)["KeyCount"] > 0
    _refused(reader.put_object, Bucket=name, Key=f"{cfg.repository.repo_prefix}intruder", Body=b"x")
    _refused(reader.put_object, Bucket=name, Key=f"{cfg.repository.logical_prefix}/intruder", Body=b"x")
    _refused(reader.delete_object, Bucket=name, Key=key)
    _refused(reader.put_object_tagging, Bucket=name, Key=key, Tagging={"TagSet": []})
    # not .json: the monitor reads every *.json there as a drill result
    result = f"{drills_prefix(cfg)}access-test.txt"
    reader.put_object(Bucket=name, Key=result, Body=b"x")
    _refused(reader.delete_object, Bucket=name, Key=result)
    _refused(reader.put_object_tagging, Bucket=name, Key=result, Tagging={"TagSet": []})
    _refused(reader.put_object, Bucket=name, Key=f"{cfg.repository.drills_prefix}/other-stanza/intruder", Body=b"x")
    _refused(reader.put_object, Bucket=name, Key=f"{cfg.repository.drills_prefix}/intruder", Body=b"x")
    _refused(reader.put_object, Bucket=name, Key="elsewhere/intruder", Body=b"x")
    keys["host"].delete_object(Bucket=name, Key=result)


def test_the_monitor_reaches_the_bucket_and_measures_it_under_the_hosts_keys(configured, keys):
    cfg = configured.cfg
    assert bucket.reachable(keys["host"], cfg)
    usage = bucket.usage(keys["host"], cfg)
    assert set(usage) == {*usage_categories(cfg).values(), "noncurrent"}
    assert usage["backups"] > 0 and usage["wal"] > 0
    facts = monitoring.facts(connection(configured), "db1", cfg)
    assert not [p for p in facts.problems if "cannot be reached" in p], facts.problems


def test_the_host_may_abort_its_own_multipart_upload(keys):
    """A failed dump aborts its upload; a denied abort would hide the dump's real error."""
    host, cfg = keys["host"], keys["cfg"]
    key = f"{cfg.repository.logical_prefix}/{cfg.pgbackrest.stanza}/aborted.dump"
    upload = host.create_multipart_upload(Bucket=cfg.repository.bucket, Key=key)
    host.upload_part(Bucket=cfg.repository.bucket, Key=key, UploadId=upload["UploadId"], PartNumber=1, Body=b"x")
    host.abort_multipart_upload(Bucket=cfg.repository.bucket, Key=key, UploadId=upload["UploadId"])
    assert host.list_objects_v2(Bucket=cfg.repository.bucket, Prefix=key)["KeyCount"] == 0
