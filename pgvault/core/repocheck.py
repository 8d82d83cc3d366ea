"""Every backup set, checked against the repository's listing: what pgBackRest 2.45's verify misses (pure).

``pgbackrest verify`` reads each file it finds and checks it against its own
checksum; it does not notice a set whose files are gone (a deleted full with
no dependents passes it).  These checks compare what ``backup.info`` and each
set's manifest say must exist with a listing of the repository
(``pgbackrest repo-ls --recurse --output=json backup/<stanza>``): every set
listed has its manifest and the manifest's copy, every file the manifest
names is stored (in its set's or a referenced set's folder, whole or in a
bundle), and ``backup.info`` and its copy are both present and equal.

Manifests are read with ``pgbackrest repo-get`` (decrypted) with their
``cipher-pass`` lines removed on the host: the sub-passphrases never leave it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

#: pgBackRest's file extension of each ``compress-type``
COMPRESS_EXTENSIONS = {"none": "", "gz": ".gz", "bz2": ".bz2", "lz4": ".lz4", "zst": ".zst"}
INFO, INFO_COPY = "backup.info", "backup.info.copy"
MANIFEST, MANIFEST_COPY = "backup.manifest", "backup.manifest.copy"
#: how many missing files a problem line names before it says "and N more"
EXAMPLES = 3


def listed_files(repo_ls_json: str) -> set[str]:
    """The files of a ``repo-ls --recurse --output=json`` listing (paths relative to the listed folder)."""
    return {path for path, entry in json.loads(repo_ls_json).items() if entry.get("type") == "file"}


def _sections(text: str) -> dict[str, dict[str, str]]:
    sections: dict[str, dict[str, str]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("[") and line.rstrip().endswith("]"):
            current = sections.setdefault(line.strip()[1:-1], {})
        elif current is not None and "=" in line:
            key, value = line.split("=", 1)
            current[key] = value
    return sections


def manifest_objects(label: str, manifest: str) -> set[str]:
    """The repository files (relative to ``backup/<stanza>/``) set ``label``'s manifest needs.

    A file of size 0 is not stored; a bundled file lives in ``<set>/bundle/<bni>``; any other in
    ``<set>/<path><compression extension>``, where ``<set>`` is the set that stored it (``reference``).
    """
    sections = _sections(manifest)
    compress = json.loads(sections.get("backup:option", {}).get("option-compress-type", '"none"'))
    extension = COMPRESS_EXTENSIONS.get(compress, f".{compress}")
    needed = set()
    for path, raw in sections.get("target:file", {}).items():
        entry = json.loads(raw)
        if not entry.get("size"):
            continue
        owner = entry.get("reference", label)
        needed.add(f"{owner}/bundle/{entry['bni']}" if "bni" in entry else f"{owner}/{path}{extension}")
    return needed


def _named(paths: Iterable[str]) -> str:
    ordered = sorted(paths)
    more = f" and {len(ordered) - EXAMPLES} more" if len(ordered) > EXAMPLES else ""
    return ", ".join(ordered[:EXAMPLES]) + more


def set_problems(labels: Iterable[str], files: set[str], manifests: Mapping[str, str | None]) -> list[str]:
    """One line per backup set that ``backup.info`` lists but the repository cannot restore.

    :param labels: the sets ``backup.info`` lists
    :param files: the repository's files below ``backup/<stanza>/``
    :param manifests: each set's manifest text, ``None`` when it could not be read
    """
    problems = []
    for label in labels:
        absent = [name for name in (MANIFEST, MANIFEST_COPY) if f"{label}/{name}" not in files]
        if absent:
            problems.append(f"backup set {label} is listed in backup.info but its {' and '.join(absent)} "
                            "is missing from the repository")
        text = manifests.get(label)
        if text is None:
            if not absent:
                problems.append(f"backup set {label}: its manifest could not be read")
            continue
        missing = manifest_objects(label, text) - files
        if missing:
            problems.append(f"backup set {label}: {len(missing)} file(s) its manifest names are missing from the "
                            f"repository: {_named(missing)}")
    return problems


def info_problems(files: set[str], digests: Mapping[str, str | None]) -> list[str]:
    """Whether ``backup.info`` and its copy are both present and hold the same content.

    :param digests: file name -> digest of its decrypted content (``None`` when unreadable)
    """
    absent = [name for name in (INFO, INFO_COPY) if name not in files]
    if absent:
        return [f"{' and '.join(absent)} missing from the repository: pgBackRest keeps the list of backup sets "
                "there; the bucket is versioned: fab repo.history lists it, fab repo.undo brings it back"]
    unreadable = [name for name in (INFO, INFO_COPY) if digests.get(name) is None]
    if unreadable:
        return [f"{' and '.join(unreadable)} could not be read back: damaged, or encrypted with another passphrase"]
    if digests.get(INFO) != digests.get(INFO_COPY):
        return ["backup.info and backup.info.copy differ: one of them is damaged or stale"]
    return []
