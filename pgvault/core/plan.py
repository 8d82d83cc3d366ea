"""Facts, then a pure plan, then apply: the plan part.

Every host-changing task reads facts (``pgvault.edges.remote``), calls a function of
this module to compare them with the desired state, shows the plan, and
applies only the plan (pyinfra's operations, invocations' ``_converge``).
An empty plan is the honest "no changes"; ``--dry-run`` prints the plan and
stops.  Nothing here touches a host, so every plan is unit-tested.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class DesiredFile:
    """A file pgvault owns on a host: its whole content, owner and mode."""

    path: str
    content: str
    owner: str
    mode: int
    #: a secret file: its content is never read back, printed or diffed
    secret: bool = False

    @property
    def sha256(self) -> str:
        """Digest of the content, compared with the host's ``sha256sum``."""
        return hashlib.sha256(self.content.encode()).hexdigest()


@dataclass(frozen=True)
class DesiredDir:
    """A directory pgvault needs on a host, with owner and mode."""

    path: str
    owner: str
    mode: int


@dataclass(frozen=True)
class PathFact:
    """What a host says about a path (file or directory)."""

    path: str
    exists: bool
    owner: str | None = None
    mode: int | None = None
    sha256: str | None = None
    #: the old content of a non-secret file, for the diff
    content: str | None = None


@dataclass(frozen=True)
class Change:
    """One difference between a host and the stack, and why."""

    target: DesiredFile | DesiredDir
    observed: PathFact
    reasons: tuple[str, ...]

    @property
    def path(self) -> str:
        """The path that changes."""
        return self.target.path


def plan_paths(desired: Iterable[DesiredFile | DesiredDir], observed: Mapping[str, PathFact]) -> list[Change]:
    """Compare desired files and directories with the host's facts.

    :param desired: what the stack says should exist
    :param observed: facts by path (a missing entry means "absent")
    :returns: the changes in the order given, empty when the host matches
    """
    changes = []
    for want in desired:
        fact = observed.get(want.path) or PathFact(want.path, False)
        reasons: list[str] = []
        if not fact.exists:
            reasons.append("create")
        else:
            if isinstance(want, DesiredFile) and fact.sha256 != want.sha256:
                reasons.append("content")
            if fact.mode != want.mode:
                reasons.append(f"mode {fact.mode:04o} -> {want.mode:04o}" if fact.mode is not None else "mode")
            if fact.owner != want.owner:
                reasons.append(f"owner {fact.owner} -> {want.owner}")
        if reasons:
            changes.append(Change(want, fact, tuple(reasons)))
    return changes


def describe(change: Change) -> str:
    """One line: what changes at a path and why."""
    kind = "dir " if isinstance(change.target, DesiredDir) else "file"
    return f"{kind} {change.path}: {', '.join(change.reasons)}"


def diff(change: Change) -> str:
    """A unified diff of a file change; secret files show no content at all."""
    target = change.target
    if not isinstance(target, DesiredFile) or "content" not in change.reasons and "create" not in change.reasons:
        return ""
    if target.secret:
        return f"--- {target.path}\n+++ {target.path}\n(secret file: content not shown)\n"
    old = (change.observed.content or "").splitlines(keepends=True)
    new = target.content.splitlines(keepends=True)
    return "".join(difflib.unified_diff(old, new, fromfile=target.path, tofile=target.path))


def summary(task: str, changes: list, steps: list[str], dry_run: bool) -> str:
    """The closing line of a converging task: "no changes" or what was (or would be) done."""
    if not changes and not steps:
        return f"{task}: no changes"
    verb = "would change" if dry_run else "changed"
    parts = [f"{len(changes)} path(s)"] if changes else []
    parts += steps
    return f"{task}: {verb} " + "; ".join(parts)
