"""``python -m bench run --scale small|default|N [--hours N] [--tps X] [--reference] [--keep]``; ``... report F``.

``run`` starts a private sandbox, seeds it, runs ``host.setup`` and every
section, tears the sandbox down, and writes ``bench/runs/<time>-<scale>.json``
and ``.md``; ``--reference`` also writes ``bench/reference.json`` and
``bench/RESULTS.md`` (the committed reference run).  ``report`` renders the
Markdown of a result file again.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path

import yaml

from bench import machine, report, targets, workload
from bench.lab import BenchError, Lab, say, stopwatch
from bench.plan import CLIENTS, Scale, scale_for
from bench.sections import compression, day, full, impact, incremental, pitr, restore, standby, wal
from pgvault.core.policy import archive_timeout_seconds
from sandbox.processes import venv_binary

HERE = Path(__file__).resolve().parent
#: in this order: the compression variants read the freshly seeded data before the
#: incremental section rewrites rows and the point-in-time section appends notes
SECTIONS = {"full": full, "compression": compression, "incremental": incremental, "restore": restore,
            "pitr": pitr, "impact": impact, "wal": wal, "day": day, "standby": standby}
#: sections measured in a lab of their own, with what it needs (``Lab.create``'s options): the standby section
#: a standby (the others' backups read the primary) and the bucket's files off the database's disk
OWN_LAB = {"standby": {"roles": ("standby",), "s3_in_memory": True}}


def measure(lab: Lab, scale: Scale, sections: list[str], rules: tuple[str, ...] = day.RULES,
            levers: bool = True) -> dict:
    """Seed, set up the host and run ``sections`` in order; return the result document."""
    started = time.time()
    doc: dict = {"version": 1, "started": datetime.now(UTC).isoformat(timespec="seconds"),
                 "scale": asdict(scale), "load": {"clients": CLIENTS}}
    with stopwatch() as elapsed:
        lab.fab("sandbox.seed", "--scale", str(scale.seed_scale))
    say(f"seeded at scale {scale.seed_scale} in {elapsed[0]:.0f} s")
    with stopwatch() as elapsed:
        lab.fab("host.setup")
    say(f"host.setup in {elapsed[0]:.0f} s")
    workload.prepare(lab)
    pgb = lab.cfg.pgbackrest
    doc["defaults"] = {"compress_type": pgb.compress_type, "compress_level": pgb.compress_level,
                       "process_max": pgb.process_max, "backup_process_max": pgb.backup_process_max,
                       "archive_async": pgb.archive_async,
                       "archive_timeout_seconds": archive_timeout_seconds(lab.cfg.targets),
                       "backup_priority": pgb.backup_priority}
    doc["database_bytes"] = lab.cluster_bytes()
    doc["machine"] = machine.describe(lab.folder, venv_binary("weed"), lab.psql("SHOW server_version;"))
    for name in sections:
        say(f"section {name}...")
        doc[name] = day.run(lab, scale, rules, levers) if name == "day" else SECTIONS[name].run(lab, scale)
    doc["duration_seconds"] = time.time() - started
    doc["targets"] = targets.evaluate(doc)
    return doc


def stack_setting(text: str) -> tuple[tuple[str, str], object]:
    """``("postgres", "checkpoint_timeout_seconds"), 3600`` from ``postgres.checkpoint_timeout_seconds=3600``."""
    key, sep, value = text.partition("=")
    section, dot, name = key.partition(".")
    if not sep or not dot or not section or not name:
        raise ValueError(f"--stack-set {text!r}: write SECTION.KEY=VALUE")
    return (section, name), yaml.safe_load(value)


def labs(sections: list[str]) -> list[tuple[dict, list[str]]]:
    """``sections`` grouped by the lab they run in: ``[(Lab.create options, sections in order)]``."""
    shared = [name for name in sections if name not in OWN_LAB]
    return ([({}, shared)] if shared else []) + [(OWN_LAB[name], [name]) for name in sections if name in OWN_LAB]


def with_section(reference: dict, run: dict, name: str) -> dict:
    """``reference`` with ``run``'s section ``name`` (a run of that section alone), saying where it comes from."""
    if name not in run:
        raise SystemExit(f"error: the run of {run.get('started')} has no {name} section")
    m = run["machine"]
    merged = dict(reference, **{name: dict(run[name], separate_run={
        "started": run["started"], "minutes": run["duration_seconds"] / 60, "seed_scale": run["scale"]["seed_scale"],
        "database_bytes": run["database_bytes"], "machine": f"{m['cpu']}, {m['cores']} cores",
        "load_seconds": run["scale"]["load_seconds"]})})
    merged["targets"] = targets.evaluate(merged)
    return merged


def merged_runs(doc: dict, found: dict, names: list[str]) -> dict:
    """The first lab's document with a later lab's ``names`` sections and time added (the targets again)."""
    if not doc:
        return found
    merged = dict(doc, **{name: found[name] for name in names},
                  duration_seconds=doc["duration_seconds"] + found["duration_seconds"])
    merged["targets"] = targets.evaluate(merged)
    return merged


def write(doc: dict, reference: bool) -> Path:
    """Write the run's JSON and Markdown under bench/runs (and the reference files); return the Markdown."""
    runs = HERE / "runs"
    runs.mkdir(exist_ok=True)
    stem = runs / f"{time.strftime('%Y%m%d-%H%M%S')}-{doc['scale']['name']}"
    text = json.dumps(doc, indent=2, sort_keys=True) + "\n"
    stem.with_suffix(".json").write_text(text)
    stem.with_suffix(".md").write_text(report.markdown(doc))
    if reference:
        (HERE / "reference.json").write_text(text)
        (HERE / "RESULTS.md").write_text(report.markdown(doc))
        return HERE / "RESULTS.md"
    return stem.with_suffix(".md")


def main(argv: list[str] | None = None) -> int:
    """Command line of the benchmark; exit 0 when it ran (missed targets are in the table), 1 when it failed."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the benchmark in a private sandbox")
    run.add_argument("--scale", default="default", help="small, default (about 2 GB) or a seed scale")
    run.add_argument("--sections", default=",".join(SECTIONS), help="comma-separated subset, in order")
    run.add_argument("--reference", action="store_true", help="also write bench/RESULTS.md and reference.json")
    run.add_argument("--keep", action="store_true", help="leave the sandbox running afterwards")
    run.add_argument("--hours", type=int, default=None,
                     help="simulated hours of the day section (default: the scale's, 24 at the default scale)")
    run.add_argument("--tps", type=float, default=None,
                     help="CRM transactions a second in the day section (default: the seeded agents' day, "
                          "100 transactions per agent over 24 hours)")
    run.add_argument("--rules", default=",".join(day.RULES), help="hourly rules of the day section, in order")
    run.add_argument("--no-levers", action="store_true", help="the day section without its one-hour levers")
    run.add_argument("--stack-set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                     help="a pgvault stack key for the lab (YAML value), e.g. postgres.checkpoint_timeout_seconds=3600")
    show = sub.add_parser("report", help="print the Markdown of a result file")
    show.add_argument("file", type=Path)
    adopt = sub.add_parser("reference-section", help="put a run's section into the committed reference")
    adopt.add_argument("section", choices=report.SEPARATE_RUN_SECTIONS)
    adopt.add_argument("file", type=Path)
    args = parser.parse_args(argv)

    if args.command == "report":
        print(report.markdown(json.loads(args.file.read_text())))
        return 0
    if args.command == "reference-section":
        reference = json.loads((HERE / "reference.json").read_text())
        merged = with_section(reference, json.loads(args.file.read_text()), args.section)
        (HERE / "reference.json").write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n")
        (HERE / "RESULTS.md").write_text(report.markdown(merged))
        say(f"bench/RESULTS.md: the {args.section} section from {args.file}")
        return 0
    try:
        scale = scale_for(args.scale)
        if args.hours is not None:
            if not 1 <= args.hours <= 48:
                raise ValueError(f"--hours {args.hours} is not between 1 and 48")
            scale = replace(scale, day_hours=args.hours)
        if args.tps is not None:
            if not 0 < args.tps <= 10000:
                raise ValueError(f"--tps {args.tps} is not between 0 and 10000")
            scale = replace(scale, day_tps=args.tps)
        sections = [s for s in args.sections.split(",") if s]
        rules = tuple(r for r in args.rules.split(",") if r)
        if not rules or set(rules) - set(day.RULES):
            raise ValueError(f"--rules {args.rules!r}: choose from {', '.join(day.RULES)}")
        overrides = dict(stack_setting(text) for text in args.stack_set)
        unknown = sorted(set(sections) - set(SECTIONS))
        if unknown:
            raise ValueError(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    doc: dict = {}
    for options, names in labs(sections):
        lab = Lab.create(overrides, **options)
        roles = options.get("roles", ())
        say(f"benchmark at {scale.name} scale in {lab.folder}" + (f" (with a {', '.join(roles)})" if roles else ""))
        try:
            lab.up()
            found = measure(lab, scale, names, rules, not args.no_levers)
        except BenchError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        finally:
            if args.keep:
                memory = lab.s3_elsewhere
                say(f"sandbox kept: PGVAULT_STACK_DIR={lab.folder} PGVAULT_STACK=bench fab sandbox.down"
                    + (f", then rm -rf {memory} (the bucket's files, in memory)" if memory else ""))
            else:
                lab.down()
        doc = merged_runs(doc, found, names)
    doc["stack_overrides"] = args.stack_set
    written = write(doc, args.reference)
    say(f"results in {written}")
    for row in doc["targets"]:
        verdict = "not measured" if row["met"] is None else ("met" if row["met"] else "MISSED")
        say(f"  {verdict:12} {row['text']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
