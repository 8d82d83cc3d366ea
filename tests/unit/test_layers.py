"""The layers hold: the core is pure, edges never reach up, the DB host's package never needs the control side.

Two proofs.  Statically, every import statement of every module (module
level and inside functions) is checked against its layer's allowed imports.
At run time, a fresh interpreter imports every core module while Fabric,
Invoke, paramiko, boto3, botocore, psycopg and every edge are blocked, and
imports the whole host package while the control side's libraries are
blocked: what a DB host has is enough.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = ("pgvault", "ops", "sandbox", "infra", "bench", "tests")

#: module prefix -> first-party prefixes it may import (the most specific prefix wins)
LAYERS = {
    "pgvault.core": ("pgvault.core",),
    "pgvault.edges": ("pgvault.core", "pgvault.edges"),
    "pgvault.actions": ("pgvault.core", "pgvault.edges", "pgvault.actions"),
    "pgvault.job": ("pgvault.core", "pgvault.edges", "pgvault.actions"),
    "pgvault": ("pgvault",),
    "ops.tasks.sandbox": ("pgvault", "ops", "sandbox"),
    "ops": ("pgvault", "ops"),
    "sandbox": ("pgvault", "ops", "sandbox", "infra"),
    "infra": ("pgvault.core", "pgvault.edges.stackfile", "infra"),
}
#: third-party packages the core may import: parsing, validation, templates, cron arithmetic
CORE_THIRD_PARTY = {"pydantic", "pydantic_core", "yaml", "jinja2", "markupsafe", "croniter"}
#: standard-library modules that talk to the network, a process or the disk: never in the core
IMPURE_STDLIB = {"socket", "ssl", "subprocess", "smtplib", "http", "urllib.request", "shutil", "tempfile", "os",
                 "pathlib", "fcntl", "selectors", "getpass", "pwd", "threading", "multiprocessing", "asyncio",
                 "logging", "io", "configparser", "sqlite3", "glob"}
#: what the core must import without, at run time
CORE_BLOCKED = ("fabric", "invoke", "paramiko", "boto3", "botocore", "psycopg", "pgvault.edges", "pgvault.actions",
                "pgvault.job", "ops", "sandbox", "infra")
#: the control side's libraries and packages: a DB host has none of them
HOST_BLOCKED = ("fabric", "invoke", "paramiko", "psycopg", "pulumi", "pulumi_aws", "pulumi_random", "pulumi_policy",
                "cron_descriptor", "markdown_it", "ops", "sandbox", "infra", "bench", "tests")


def module_name(path: Path) -> str:
    """The dotted name of a source file of the checkout."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[str]:
    """Every module a source file imports, wherever the statement is."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module)
            found += [f"{node.module}.{alias.name}" for alias in node.names if node.module in FIRST_PARTY]
    return found


def within(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def sources(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", sources("pgvault", "ops", "sandbox", "infra"), ids=lambda p: module_name(p))
def test_first_party_imports_follow_the_layers(path):
    name = module_name(path)
    layer = max((prefix for prefix in LAYERS if within(name, [prefix])), key=len)
    wrong = [i for i in imports(path) if i.split(".")[0] in FIRST_PARTY and not within(i, LAYERS[layer])]
    assert not wrong, f"{name} ({layer} layer) imports {wrong}; allowed: {LAYERS[layer]}"


@pytest.mark.parametrize("path", sources("pgvault/core"), ids=lambda p: module_name(p))
def test_the_core_imports_nothing_that_talks_to_the_network_a_process_or_the_disk(path):
    for name in imports(path):
        top = name.split(".")[0]
        if top in FIRST_PARTY or top == "__future__":
            continue
        assert name not in IMPURE_STDLIB and top not in IMPURE_STDLIB, f"{module_name(path)} imports {name}"
        assert top in CORE_THIRD_PARTY or top in sys.stdlib_module_names, f"{module_name(path)} imports {name}"


BLOCKER = """
import importlib, pkgutil, sys
blocked = sys.argv[1].split(",")
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if any(name == b or name.startswith(b + ".") for b in blocked):
            raise ImportError(f"{name} is blocked")
sys.meta_path.insert(0, Blocker())
package = importlib.import_module(sys.argv[2])
names = [package.__name__] + [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
for name in names:
    importlib.import_module(name)
print(len(names))
"""


@pytest.mark.parametrize("package, blocked", [("pgvault.core", CORE_BLOCKED), ("pgvault", HOST_BLOCKED)],
                         ids=["core without edges or I/O libraries", "host package without the control side"])
def test_every_module_imports_with_the_other_side_blocked(package, blocked):
    done = subprocess.run([sys.executable, "-c", BLOCKER, ",".join(blocked), package], capture_output=True, text=True,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr.strip().splitlines()[-1:]
    assert int(done.stdout) == len(sources(package.replace(".", "/"))), "every module of the package was imported"


def test_the_blocker_really_blocks():
    done = subprocess.run([sys.executable, "-c", BLOCKER, "pgvault.core.units", "pgvault.core"], capture_output=True,
                          text=True, cwd=ROOT)
    assert done.returncode != 0 and "pgvault.core.units is blocked" in done.stderr
