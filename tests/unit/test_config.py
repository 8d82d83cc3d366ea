"""The stack loader: valid stacks load, every bad value is one line naming the key and the fix."""

from __future__ import annotations

import pytest

from pgvault.core.config import parse_stack
from pgvault.core.errors import ConfigError, ExitCode, UsageError
from pgvault.edges.stackfile import load_stack, stack_name
from tests.builders import BASE, make_stack, merge, stack_text


def test_committed_sandbox_stack_loads(monkeypatch):
    monkeypatch.chdir(__import__("pathlib").Path(__file__).parents[2])
    cfg = load_stack("sandbox")
    assert cfg.is_sandbox
    assert cfg.pgbackrest.stanza == "crm"
    assert cfg.repository.endpoint_port == 58443
    assert cfg.postgres.os_user  # filled for the local user


def test_defaults_follow_debian_layout():
    cfg = make_stack()
    assert cfg.postgres.data_dir == "/var/lib/postgresql/15/main"
    assert cfg.postgres.include_dir == "/etc/postgresql/15/main/conf.d"
    assert cfg.repository.endpoint_url == "https://s3.eu-west-1.amazonaws.com:443"
    assert cfg.retention.daily_days == 30 and cfg.retention.weekly_days == 90 and cfg.retention.monthly_days == 365
    assert cfg.schedule.full == "0 2 * * *" and cfg.schedule.incremental == "0 * * * *"


def test_version_changes_derived_paths():
    cfg = make_stack(postgres={"version": 16, "cluster": "crm"})
    assert cfg.postgres.bin_dir == "/usr/lib/postgresql/16/bin"
    assert cfg.postgres.data_dir == "/var/lib/postgresql/16/crm"


BAD = [
    ({"pgvault:bogus": 1}, "unknown key pgvault:bogus"),
    ({"pgvault:postgres": {"prot": 5432}}, "unknown key pgvault:postgres.prot"),
    ({"pgvault:postgres": {"port": "5432"}}, "pgvault:postgres.port"),
    ({"pgvault:postgres": {"port": 70000}}, "pgvault:postgres.port"),
    ({"pgvault:postgres": {"data_dir": "var/lib/pg"}}, "pgvault:postgres.data_dir"),
    ({"pgvault:postgres": {"data_dir": "/var/lib/my pg"}}, "pgvault:postgres.data_dir"),
    ({"pgvault:postgres": {"data_dir": "/var/lib/../etc"}}, "'..'"),
    ({"pgvault:postgres": {"control": "pg_ctl"}}, "needs log_file"),
    ({"pgvault:postgres": {"databases": ["crm; drop table x"]}}, "pgvault:postgres.databases[0]"),
    ({"pgvault:postgres": {"scratch_dir": "/var/lib/postgresql/15/main/scratch"}}, "inside data_dir"),
    ({"pgvault:pgbackrest": {"stanza": "my stanza"}}, "pgvault:pgbackrest.stanza"),
    ({"pgvault:pgbackrest": {"stanza": "a/b"}}, "pgvault:pgbackrest.stanza"),
    ({"pgvault:pgbackrest": {"process_max": 0}}, "pgvault:pgbackrest.process_max"),
    ({"pgvault:pgbackrest": {"compress_type": "gz", "compress_level": 12}}, "above 9"),
    ({"pgvault:repository": {"bucket": "acme.backups"}}, "has a dot"),
    ({"pgvault:repository": {"bucket": "Acme-Backups"}}, "not a valid S3 name"),
    ({"pgvault:repository": {"endpoint": "https://s3.example.com"}}, "has a scheme"),
    ({"pgvault:repository": {"region": "Europe"}}, "not an AWS-style region"),
    ({"pgvault:repository": {"region": None}}, "pgvault:repository.region is required"),
    ({"pgvault:repository": {"verify_tls": False}}, "verify_tls is false outside a sandbox"),
    ({"pgvault:repository": {"path": "/"}}, "leaves no prefix"),
    ({"pgvault:repository": {"logical_prefix": "pgbackrest"}}, "is the pgBackRest repository path"),
    ({"pgvault:retention": {"daily_days": 0}}, "pgvault:retention.daily_days"),
    ({"pgvault:retention": {"daily_days": -5}}, "pgvault:retention.daily_days"),
    ({"pgvault:retention": {"weekly_days": 20}}, "tiers must grow"),
    ({"pgvault:targets": {"rpo_seconds": 5}}, "pgvault:targets.rpo_seconds"),
    ({"pgvault:schedule": {"full": "every day"}}, "not a 5-field cron"),
    ({"pgvault:schedule": {"incremental": "0 * * *"}}, "not a 5-field cron"),
    ({"pgvault:hosts": [{"name": "db1", "address": "a"}, {"name": "db1", "address": "b"}]}, "share a name"),
    ({"pgvault:hosts": [{"name": "a", "address": "x"}, {"name": "b", "address": "x"}]}, "share an address"),
    ({"pgvault:hosts": []}, "pgvault:hosts"),
    ({"pgvault:hosts": [{"name": "db1", "address": "db1; rm -rf /"}]}, "pgvault:hosts[0].address"),
    ({"pgvault:repository": {"secure": "v1:abc"}}, "holds a secret"),
]


@pytest.mark.parametrize("overrides, expected", BAD, ids=[e for _, e in BAD])
def test_bad_values_are_one_line_errors(overrides, expected):
    text = stack_text(merge(BASE, overrides))
    with pytest.raises(ConfigError) as caught:
        parse_stack(text, "Pulumi.prod.yaml", "prod")
    line = caught.value.one_line()
    assert expected in line
    assert line.startswith("Pulumi.prod.yaml")
    assert "\n" not in line and caught.value.fix
    assert caught.value.code == ExitCode.CONFIG


def test_duplicate_yaml_keys_are_refused():
    text = "config:\n  pgvault:hosts: []\n  pgvault:hosts: []\n"
    with pytest.raises(ConfigError, match="duplicate key 'pgvault:hosts' on line 3"):
        parse_stack(text, "Pulumi.x.yaml", "x")


def test_invalid_yaml_names_the_line():
    with pytest.raises(ConfigError, match="line 2 is not valid YAML"):
        parse_stack("config:\n\tpgvault:hosts: 1\n", "Pulumi.x.yaml", "x")


def test_other_namespaces_are_left_to_pulumi():
    cfg = parse_stack(stack_text(merge(BASE, {"aws:region": "eu-west-1"})), "Pulumi.x.yaml", "x")
    assert cfg.repository.region == "eu-west-1"


@pytest.mark.parametrize("name", ["../etc", "a/b", "prod;rm", ".hidden", "x" * 80])
def test_stack_names_cannot_escape_the_stack_folder(name):
    with pytest.raises(UsageError):
        stack_name(name)


def test_stack_name_comes_from_the_environment_then_defaults(monkeypatch):
    assert stack_name(None) == "sandbox"
    monkeypatch.setenv("PGVAULT_STACK", "prod")
    assert stack_name(None) == "prod"
    assert stack_name("staging") == "staging"


def test_missing_stack_file_names_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("PGVAULT_STACK_DIR", str(tmp_path))
    with pytest.raises(ConfigError, match="no stack file .*Pulumi.prod.yaml"):
        load_stack("prod")


def test_sandbox_stack_defaults_os_user_to_the_local_database_user():
    from tests.builders import sandbox_config

    text = stack_text(sandbox_config("/var/tmp/x", {"moto": 1, "ssh": 2, "pg": 3, "s3": 4, "smtp": 5}))
    assert parse_stack(text, "Pulumi.s.yaml", "s", default_os_user="alice").postgres.os_user == "alice"
    assert make_stack().postgres.os_user == "postgres"
