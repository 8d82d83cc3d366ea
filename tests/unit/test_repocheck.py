"""Every backup set against the repository's listing: manifests, the files they name, backup.info's copy."""

from __future__ import annotations

import json

from pgvault.core import repocheck

FULL, INCR = "20261130-111222F", "20261130-111222F_20261130-111226I"


def _manifest(files: dict[str, dict], compress: str = "zst") -> str:
    lines = ["[backrest]", 'backrest-format=5', "", "[backup:option]", f'option-compress-type="{compress}"', "",
             "[cipher]", 'cipher-pass="never-read"', "", "[target:file]"]
    lines += [f"{path}={json.dumps(entry)}" for path, entry in files.items()]
    return "\n".join(lines + ["", "[target:file:default]", 'group="postgres"', ""])


INCR_MANIFEST = _manifest({
    "pg_data/PG_VERSION": {"bni": 1, "bno": 2647152, "reference": FULL, "size": 3},
    "pg_data/backup_label": {"size": 258},
    "pg_data/base/1/112": {"bni": 2, "reference": FULL, "size": 8192},
    "pg_data/base/1/13394": {"size": 0},
    "pg_data/base/16385/16422": {"reference": FULL, "size": 900000},
    "pg_data/base/16385/16430": {"bni": 1, "size": 4000},
})
LISTING = {f"{FULL}/{repocheck.MANIFEST}", f"{FULL}/{repocheck.MANIFEST_COPY}", f"{FULL}/bundle/1",
           f"{FULL}/bundle/2", f"{FULL}/pg_data/base/16385/16422.zst", f"{INCR}/{repocheck.MANIFEST}",
           f"{INCR}/{repocheck.MANIFEST_COPY}", f"{INCR}/pg_data/backup_label.zst", f"{INCR}/bundle/1",
           repocheck.INFO, repocheck.INFO_COPY}


def test_a_manifest_names_whole_files_bundles_and_the_sets_that_hold_them():
    assert repocheck.manifest_objects(INCR, INCR_MANIFEST) == {
        f"{FULL}/bundle/1", f"{FULL}/bundle/2", f"{INCR}/pg_data/backup_label.zst",
        f"{FULL}/pg_data/base/16385/16422.zst", f"{INCR}/bundle/1"}
    assert f"{INCR}/pg_data/x" in repocheck.manifest_objects(INCR, _manifest({"pg_data/x": {"size": 1}}, "none"))


def test_a_listing_keeps_files_only():
    listing = json.dumps({".": {"type": "path"}, FULL: {"type": "path"},
                          f"{FULL}/bundle/1": {"type": "file", "size": 10, "time": 1}})
    assert repocheck.listed_files(listing) == {f"{FULL}/bundle/1"}


def test_a_complete_repository_has_no_problem():
    assert repocheck.set_problems([FULL, INCR], LISTING, {FULL: _manifest({}), INCR: INCR_MANIFEST}) == []


def test_a_deleted_set_its_dependents_files_and_a_lost_manifest_are_named():
    gone = {path for path in LISTING if not path.startswith(f"{FULL}/")}
    problems = repocheck.set_problems([FULL, INCR], gone, {FULL: None, INCR: INCR_MANIFEST})
    assert problems[0] == (f"backup set {FULL} is listed in backup.info but its backup.manifest and "
                           "backup.manifest.copy is missing from the repository")
    assert problems[1].startswith(f"backup set {INCR}: 3 file(s) its manifest names are missing")
    assert f"{FULL}/bundle/1" in problems[1]


def test_backup_info_and_its_copy_must_both_be_there_and_agree():
    assert repocheck.info_problems(LISTING, {"backup.info": "a", "backup.info.copy": "a"}) == []
    assert "differ" in repocheck.info_problems(LISTING, {"backup.info": "a", "backup.info.copy": "b"})[0]
    unreadable = repocheck.info_problems(LISTING, {"backup.info": None, "backup.info.copy": None})
    assert unreadable[0].startswith("backup.info and backup.info.copy could not be read back")
    lost = repocheck.info_problems(LISTING - {repocheck.INFO, repocheck.INFO_COPY}, {})
    assert lost[0].startswith("backup.info and backup.info.copy missing") and "fab repo.undo" in lost[0]
