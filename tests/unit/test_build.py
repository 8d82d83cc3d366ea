"""The DB host's package holds only ``pgvault``, and its build id hashes exactly what is installed.

``host.setup`` reinstalls ``pgvault-job`` when the build id differs, so the id
must change with every file a host runs and with nothing else: editing the
sandbox, the demo, a Fabric task or the Pulumi program must not mark every
production host as drifted.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pgvault.edges.build import PACKAGE, digest, package_files

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_ELSEWHERE = ("ops", "sandbox", "infra", "bench", "tests")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    """The wheel ``host.setup`` would build from this checkout (``ops.jobinstall.build_wheel``'s command)."""
    folder = tmp_path_factory.mktemp("wheel")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "--disable-pip-version-check", "-w", str(folder), str(ROOT)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    (path,) = folder.glob("pgvault-*.whl")
    return zipfile.ZipFile(path)


def test_the_wheel_holds_the_package_files_and_nothing_else(wheel):
    names = [n for n in wheel.namelist() if ".dist-info/" not in n]
    assert sorted(names) == [f"pgvault/{p}" for p in package_files()]
    assert not [n for n in names if n.split("/")[0] in SHIPPED_ELSEWHERE or "/sandbox/" in n or "demo" in n]
    entry_points = next(n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt"))
    assert "pgvault-job = pgvault.job:main" in wheel.read(entry_points).decode()


def test_the_build_id_of_the_installed_tree_is_the_checkouts(wheel, tmp_path):
    wheel.extractall(tmp_path / "site")
    assert digest(tmp_path / "site" / "pgvault") == digest(PACKAGE)


def _build_id_of(checkout: Path) -> str:
    """``pgvault-job --version``'s build id, computed by the copy of pgvault in ``checkout``."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run([sys.executable, "-c", "from pgvault.edges.build import build_id, PACKAGE; "
                           "print(PACKAGE); print(build_id())"], cwd=checkout, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    package, build = done.stdout.split()
    assert package == str(checkout / "pgvault")
    return build


def test_editing_the_sandbox_demo_tasks_or_infra_leaves_the_build_id_alone_editing_the_core_changes_it(tmp_path):
    checkout = tmp_path / "checkout"
    for folder in ("pgvault", *SHIPPED_ELSEWHERE[:3]):
        shutil.copytree(ROOT / folder, checkout / folder, ignore=shutil.ignore_patterns("__pycache__"))
    before = _build_id_of(checkout)
    for path in ("sandbox/demo.py", "sandbox/seaweed.py", "ops/tasks/backup.py", "infra/__main__.py"):
        with open(checkout / path, "a") as out:
            out.write("\n# an edit\n")
    (checkout / "pgvault" / "core" / "__pycache__").mkdir(exist_ok=True)
    (checkout / "pgvault" / "core" / "__pycache__" / "stray.cpython-311.pyc").write_bytes(b"x")
    assert _build_id_of(checkout) == before
    with open(checkout / "pgvault" / "core" / "units.py", "a") as out:
        out.write("\n# an edit\n")
    after = _build_id_of(checkout)
    assert after != before and after.split("+")[0] == before.split("+")[0]
