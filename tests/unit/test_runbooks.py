"""Runbooks: the committed sandbox runbooks are what the templates render; runnable blocks are found."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops import runbooks
from pgvault.core import jobs
from pgvault.core.config import parse_stack
from pgvault.core.monitoring import alerts
from pgvault.core.policy import alarm_specs

ROOT = Path(__file__).resolve().parents[2]


def sandbox():
    return parse_stack((ROOT / "Pulumi.sandbox.yaml").read_text(), "Pulumi.sandbox.yaml", "sandbox",
                       default_os_user="postgres")


RENDERED = runbooks.render_all(sandbox())


@pytest.mark.parametrize("name", sorted(RENDERED))
def test_committed_runbook_matches_its_template(name):
    committed = ROOT / "runbooks" / "sandbox" / name
    assert committed.read_text() == RENDERED[name], f"{name} is stale: run fab runbooks.render --stack sandbox"


@pytest.mark.parametrize("name", sorted(RENDERED))
def test_every_runbook_has_a_banner_runnable_steps_and_no_secret(name):
    text = RENDERED[name]
    assert text.startswith("<!-- Managed by pgvault from Pulumi.sandbox.yaml")
    steps = runbooks.blocks(name, text)
    assert steps and len({b.step for b in steps}) == len(steps)
    assert all(b.host in ("control", "db") for b in steps)
    for word in ("cipher-pass=", "PGVAULT_S3_KEY_SECRET=", "PGVAULT_REPO_CIPHER_PASS="):
        assert word not in text


def test_block_extraction_reads_the_fence_metadata():
    text = "x\n\n```sh pgvault-run step=a-1 host=db user=postgres\necho hi\n```\n\n```sh\nnot run\n```\n"
    (block,) = runbooks.blocks("x", text)
    assert (block.step, block.host, block.user, block.code) == ("a-1", "db", "postgres", "echo hi\n")


def test_alarm_sections_exist_for_every_alarm_and_failure_alert():
    text = RENDERED["alarms.md"]
    sections = [job.runbook_section for job in jobs.JOBS] + [alerts.UNKNOWN_JOB_SECTION]
    for key in [a.key for a in alarm_specs(sandbox())] + sections:
        assert f'<a id="{key}"></a>' in text, key
