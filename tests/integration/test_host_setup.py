"""host.setup and host.check against the real sandbox host over SSH."""

from __future__ import annotations

from pathlib import Path

from pgvault.core import pgbackrest, secrets


def test_second_setup_changes_nothing(configured):
    out = configured.ok("host.setup")
    assert out.strip().endswith("host.setup db1: no changes")


def test_check_passes_on_a_configured_host(configured):
    out = configured.ok("host.check")
    assert "matches the stack" in out


def test_drift_is_reported_shown_by_dry_run_and_repaired(configured):
    conf = Path(pgbackrest.config_file(configured.cfg))
    original = conf.read_text()
    conf.write_text(original.replace("process-max=2", "process-max=8"))
    try:
        check = configured.fab("host.check")
        assert check.returncode == 4
        assert f"file {conf}: content" in check.stdout
        assert "error: the host differs from the stack; run fab host.setup" in check.stderr

        dry = configured.ok("host.setup", "--dry-run")
        assert "-process-max=8" in dry and "+process-max=2" in dry
        assert "would change 1 path(s)" in dry
        assert "process-max=8" in conf.read_text(), "--dry-run must not change the host"

        fixed = configured.ok("host.setup")
        assert "changed 1 path(s)" in fixed
        assert conf.read_text() == original
    finally:
        conf.write_text(original)
    assert "no changes" in configured.ok("host.setup")


def test_mode_drift_is_repaired(configured):
    conf = Path(pgbackrest.config_file(configured.cfg))
    conf.chmod(0o644)
    out = configured.ok("host.setup")
    assert "mode 0644 -> 0640" in out
    assert conf.stat().st_mode & 0o777 == 0o640


def test_dry_run_on_a_fresh_host_shows_every_file_and_masks_secrets(configured):
    path = Path(secrets.secrets_file(configured.cfg))
    content = path.read_bytes()
    path.unlink()
    try:
        dry = configured.ok("host.setup", "--dry-run")
        assert f"file {path}: create" in dry and "(secret file: content not shown)" in dry
        assert not path.exists()
        passphrase = [line for line in content.decode().splitlines() if line.startswith("repo1-cipher-pass=")][0]
        assert passphrase.split("=", 1)[1] not in dry
    finally:
        configured.ok("host.setup")
    assert path.read_bytes() == content
