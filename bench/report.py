"""The Markdown table of one benchmark run, rendered from its result document (pure)."""

from __future__ import annotations

from bench.stats import ratio
from bench.targets import day_multiple, evaluate
from pgvault.core.units import human_bytes

MB = 1024 * 1024


def _cell(text: str) -> str:
    """Text for a table cell: pipes escaped (GitHub renders ``\\|`` as a pipe, even in code)."""
    return text.replace("|", "\\|")


def _s(summary: dict | None) -> str:
    """``median s (±spread%, n)`` of a seconds summary."""
    if not summary:
        return "n/a"
    return f"{summary['median']:.1f} s (±{summary['spread_pct']:.0f}%, n={summary['n']})"


def _ms(summary: dict) -> str:
    """``median ms (min to max, n)`` of a latency summary: a p99 over few runs is only as good as its range."""
    if summary["n"] < 2:
        return f"{summary['median']:.1f} ms"
    return f"{summary['median']:.1f} ms ({summary['min']:.1f} to {summary['max']:.1f}, n={summary['n']})"


def _x(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.0f}%"


def _med(node: dict | None, key: str) -> float | None:
    return node[key]["median"] if node and key in node else None


def _target_value(row: dict) -> str:
    if row["value"] is None:
        return "not measured"
    if row["unit"] == "%":
        return _pct(row["value"])
    return f"{row['value']:.2f} {row['unit']}" if row["unit"] == "s" else _x(row["value"])


def _limit(row: dict) -> str:
    sign = ">=" if row["higher_is_better"] else "<="
    value = _pct(row["limit"]) if row["unit"] == "%" else (f"{row['limit']:.0f} s" if row["unit"] == "s"
                                                            else _x(row["limit"]))
    return f"{sign} {value}"


def targets_table(doc: dict) -> list[str]:
    """The targets with the measured value and MET / MISSED."""
    lines = ["| target | measured | limit | result |", "|---|---|---|---|"]
    for row in evaluate(doc):
        verdict = "not measured" if row["met"] is None else ("met" if row["met"] else "**MISSED**")
        lines.append(f"| {_cell(row['text'])} | {_target_value(row)} | {_limit(row)} | {verdict} |")
    return lines


def full_table(doc: dict) -> list[str]:
    """Section 1: the three full backups side by side."""
    full, size = doc.get("full"), doc["database_bytes"]
    if not full:
        return ["not measured"]
    lines = ["| | wall time | MB/s of database | stored | database / stored |", "|---|---|---|---|---|"]
    names = {"pgvault": "pgvault (pgBackRest full)", "baseline": "baseline `pg_dump -Fc | gzip` to S3",
             "floor": "floor `tar | zstd -1 -T0` (nothing stored)"}
    for kind, label in names.items():
        secs, stored = _med(full[kind], "seconds"), _med(full[kind], "stored_bytes")
        lines.append(f"| {_cell(label)} | {_s(full[kind]['seconds'])} | {size / MB / secs:.0f} | "
                     f"{human_bytes(stored)} | "
                     f"{size / stored:.1f} |")
    ours = _med(full["pgvault"], "seconds")
    lines += ["", f"pgvault / baseline: {_x(ratio(ours, _med(full['baseline'], 'seconds')))} the time; "
                  f"pgvault / floor: {_x(ratio(ours, _med(full['floor'], 'seconds')))} the time; "
                  "stored pgvault / baseline: "
                  f"{_x(ratio(_med(full['pgvault'], 'stored_bytes'), _med(full['baseline'], 'stored_bytes')))}."]
    return lines


def incremental_table(doc: dict) -> list[str]:
    """Section 2: incrementals against the full."""
    incr, full = doc.get("incremental"), doc.get("full", {}).get("pgvault")
    if not incr or not full:
        return ["not measured"]
    lines = ["| rows changed | rows | wall time | stored | time / full | stored / full | WAL of the changes "
             "(archived before the clock starts) |", "|---|---|---|---|---|---|---|"]
    for pct, found in incr.items():
        wal = (f"{human_bytes(found['wal_bytes'])} in {found['wal_archive_seconds']:.0f} s"
               if "wal_bytes" in found else "not measured")
        lines.append(f"| {pct}% | {found['rows_changed']:,} | {found['seconds']:.1f} s | "
                     f"{human_bytes(found['stored_bytes'])} | {_x(ratio(found['seconds'], _med(full, 'seconds')))} | "
                     f"{_x(ratio(found['stored_bytes'], _med(full, 'stored_bytes')))} | {wal} |")
    return lines


def _phases(seconds: dict) -> str:
    return ", ".join(f"{key.replace('_', ' ')} {value:.1f} s" for key, value in seconds.items())


def restore_table(doc: dict) -> list[str]:
    """Section 3: restores to a usable database, and the point-in-time restore."""
    found = doc.get("restore")
    if not found:
        return ["not measured"]
    ours = _med(found["pgvault"], "seconds")
    lines = ["| | time to a usable database | pgvault / this |", "|---|---|---|"]
    names = {"pgvault": "pgvault `restore.full` (scratch cluster accepting connections)",
             "baseline": "baseline: download, gunzip, `pg_restore -j <cores>` into a new database",
             "floor": "floor: read the `tar.zst` back from the bucket and decompress it"}
    for kind, label in names.items():
        speed = _x(ratio(ours, _med(found[kind], 'seconds')))
        lines.append(f"| {_cell(label)} | {_s(found[kind]['seconds'])} | {speed} |")
    phases = found["pgvault"].get("phases", {})
    if phases:
        lines += ["", "pgvault's restore phases (medians): "
                  + _phases({k: v["median"] for k, v in phases.items()}) + "."]
    pitr = doc.get("pitr")
    if pitr:
        rate = pitr["wal_bytes"] / MB / pitr["seconds"]
        lines += ["", f"Point-in-time restore replaying {pitr['wal_bytes'] / MB:,.0f} MB of WAL written after the "
                      f"hourly incremental: {pitr['seconds']:.1f} s ({rate:.0f} MB of WAL per second overall; "
                      f"phases {_phases(pitr.get('phases', {}))})."]
    return lines


def impact_table(doc: dict) -> list[str]:
    """Section 4: pgbench during back-to-back full backups."""
    found = doc.get("impact")
    if not found:
        return ["not measured"]
    alone = _med(found["none"], "tps")
    lines = ["| backups running | tps | vs no backup | p99 latency | backup wall time | CPU taken by the S3 server |",
             "|---|---|---|---|---|---|"]
    for key, run in found.items():
        backup = f"{_med(run, 'backup_seconds'):.1f} s" if "backup_seconds" in run else "-"
        s3 = _pct(_med(run, "s3_cpu_share")) if "s3_cpu_share" in run else "-"
        lines.append(f"| {key} | {_med(run, 'tps'):.0f} | {_pct(ratio(_med(run, 'tps'), alone))} | "
                     f"{_med(run, 'p99_ms'):.1f} ms | {backup} | {s3} |")
    return lines


def wal_table(doc: dict) -> list[str]:
    """Section 5: WAL archiving lag."""
    found = doc.get("wal")
    if not found:
        return ["not measured"]
    lines = ["| archiving | segments | segments/s | WAL MB/s | lag p50 | lag p99 | lag max | never arrived "
             "| implied RPO under load |",
             "|---|---|---|---|---|---|---|---|---|"]
    for mode, run in found.items():
        lag = run.get("lag_s", {})
        cells = [f"{lag[k]:.1f} s" if k in lag else "n/a" for k in ("p50", "p99", "max")]
        rpo = f"{run['implied_rpo_s']:.1f} s" if "implied_rpo_s" in run else "n/a"
        lines.append(f"| {mode} | {run['segments']} | {run['segments_per_s']:.2f} | {run['wal_mb_per_s']:.1f} | "
                     f"{' | '.join(cells)} | {run['missing']} | {rpo} |")
    return lines


def compression_table(doc: dict) -> list[str]:
    """Section 6: compression choices."""
    found, size = doc.get("compression"), doc["database_bytes"]
    if not found:
        return ["not measured"]
    lines = ["| compression | full backup time | stored | database / stored |", "|---|---|---|---|"]
    for key, run in found.items():
        stored = _med(run, "stored_bytes")
        mark = " (default)" if run.get("default") else ""
        copied = _med(run, "copied_bytes") or size
        lines.append(f"| {key}{mark} | {_s(run['seconds'])} | {human_bytes(stored)} | {copied / stored:.1f} |")
    return lines


#: the sections that can come from a run of their own (``python -m bench reference-section``) and say so
SEPARATE_RUN_SECTIONS = ("day", "standby")


def separate_run(found: dict, name: str) -> list[str]:
    """The paragraph that says a section comes from a run of its own (``reference-section``), if it does."""
    own = found.get("separate_run")
    if not own:
        return []
    return [f"Measured on its own: run {own['started']} ({own['minutes']:.0f} min), the {name} section only, "
            f"`fab sandbox.seed --scale {own['seed_scale']}`, {human_bytes(own['database_bytes'])} of database, "
            f"on {own['machine']}; the other sections are from the run above, not re-measured.", ""]


def standby_table(doc: dict) -> list[str]:
    """Section 8: the primary at half of its peak while fulls run from the primary, then from the standby."""
    found = doc.get("standby")
    if not found:
        return ["not measured"]
    cores = found.get("cores")
    placement = (f"Two machines on one: the primary's PostgreSQL, the load and pgBackRest's backup command on core(s) "
                 f"{', '.join(map(str, cores['primary']))}; the standby (its PostgreSQL and the pgBackRest remote "
                 f"its sshd starts) and the S3 server on core(s) {', '.join(map(str, cores['elsewhere']))}; the "
                 "S3 server's files in memory (a bucket is another machine's disk), the hosts' data directories "
                 "on one disk." if cores else "One core: every process shares it, which two machines would not.")
    load = found["load"]
    lines = [*separate_run(found, "standby"),
             f"The primary's peak: {found['peak_tps']:.0f} tps; the load runs at {found['rate_tps']:.0f} tps "
             f"(pgbench `-R`, latency counted from each transaction's scheduled start). {placement} The 1-minute "
             f"load average was {load['min']:.1f} to {load['max']:.1f} (median {load['median']:.1f}).", "",
             "| full backups running | tps | vs no backup | p99 latency (range over runs) | backup wall time |",
             "|---|---|---|---|---|"]
    alone = _med(found["none"], "tps")
    names = {"none": "none", "primary": "from the primary (`--no-backup-standby`)",
             "standby": f"from the standby {found['standby_host']} (`backup-standby=y`)"}
    for source, label in names.items():
        run = found[source]
        backup = f"{_med(run, 'backup_seconds'):.1f} s" if "backup_seconds" in run else "-"
        lines.append(f"| {label} | {_med(run, 'tps'):.0f} | {_pct(ratio(_med(run, 'tps'), alone))} | "
                     f"{_ms(run['p99_ms'])} | {backup} |")
    return lines


def day_table(doc: dict) -> list[str]:
    """Section 7: a day of backups under each hourly rule, then the levers measured on one hour each."""
    found = doc.get("day")
    if not found:
        return ["not measured"]
    checkpoints = found.get("checkpoints_per_hour")
    lines = separate_run(found, "day")
    run_load = (found.get("run") or {}).get("load")
    if run_load:
        lines += [f"The machine is shared: its 1-minute load average during this section was {run_load['min']:.1f} "
                  f"to {run_load['max']:.1f} (median {run_load['median']:.1f}) on {found['run']['cpus']} cores. "
                  "The bytes do not depend on it (every hour is a fixed number of transactions); the times do.", ""]
    timeout = found.get("checkpoint_timeout_seconds")
    clock = (f", `checkpoint_timeout` {timeout // 60} min and `max_wal_size` {found.get('max_wal_size', '?')}: "
             "timed checkpoints on a simulated clock that a backup's checkpoint resets" if timeout else
             f", {checkpoints} checkpoints an hour as checkpoint_timeout makes them" if checkpoints else "")
    lines += [f"{found['hours']} simulated hours of {found['transactions_per_hour']:,} CRM transactions each "
             f"({found['tps']:.2f} a second{clock}; a fixed number of transactions, run as fast as they go), "
             "each followed by the hourly job; a full and a logical dump first.", "",
             "| hourly rule | fulls | incrementals | WAL | dumps | in all | x one full "
             "| incrementals / restore points |", "|---|---|---|---|---|---|---|---|"]
    for rule in ("always", "adaptive"):
        run = found.get(rule)
        if not run:
            continue
        full = run["full_bytes"]
        cells = [human_bytes(run[k]) + f" ({_x(ratio(run[k], full))})"
                 for k in ("full_bytes", "incremental_bytes", "wal_bytes", "dump_bytes")]
        label = "always (today's schedule)" if rule == "always" else "adaptive (the new default)"
        lines.append(f"| {label} | {' | '.join(cells)} | {human_bytes(run['total_bytes'])} | "
                     f"{_x(day_multiple(doc, rule))} | {run['incrementals']} / {run['restore_points']} |")
    part = found.get("always_partial")
    if part:
        full = part["full_bytes"]
        cells = [human_bytes(part[k]) + f" ({_x(ratio(part[k], full))})"
                 for k in ("full_bytes", "incremental_bytes", "wal_bytes", "dump_bytes")]
        lines.append(f"| always (today's schedule), its first {part['hours']} of {found['hours']} hours only "
                     f"| {' | '.join(cells)} | {human_bytes(part['total_bytes'])} | "
                     f"{_x(ratio(part['total_bytes'], full))} | {part['incrementals']} / 0 |")
        lines += ["", f"Today's schedule ran after the adaptive day in the same run; its row is what the bucket held "
                      f"after its first {part['hours']} hours ({part['note']})."]
    if found["hours"] < 24:
        lines += ["", f"{found['hours']} hours are not a day: the target's verdict needs `--hours 24`."]
    return lines + _levers(found)


def _projected(found: dict, wal_hour: int) -> str:
    """A day under the adaptive rule with ``wal_hour`` archived each hour: (full + dump + 24 x it) / full."""
    run = found.get("adaptive") or found.get("always")
    if not run or not run.get("full_bytes"):
        return "n/a"
    return _x(ratio(run["full_bytes"] + run["dump_bytes"] + 24 * wal_hour, run["full_bytes"]))


def _levers(found: dict) -> list[str]:
    """The levers' tables: wal_compression, checkpoints an hour, archive compression, dump compression."""
    walc, ckpt = found.get("wal_compression") or {}, found.get("checkpoints") or {}
    configured = walc.get("configured")
    rows = [(f"`wal_compression={m}`" + (" (configured)" if m == configured else ""), walc[m])
            for m in ("off", "pglz", "lz4", "zstd") if isinstance(walc.get(m), dict)]
    rows += [(f"{n} checkpoint{'s' * (n != '1')} an hour (`checkpoint_timeout` {60 // int(n)} min)", ckpt[n])
             for n in sorted(ckpt, key=int, reverse=True)]
    out = []
    if rows:
        per_hour = max(1, int(found.get("checkpoints_per_hour") or 1))
        out += ["", "Levers, each on one hour's transactions after a checkpoint (the WAL levers with "
                    f"{per_hour} checkpoint{'s' * (per_hour != 1)} in the hour, the checkpoint levers with the "
                    "configured `wal_compression`). *Projected day*: the adaptive day's full and dump plus 24 times "
                    "the hour's archived WAL, no incrementals, as a multiple of the full.", "",
                "| lever | WAL written | WAL archived | projected day |", "|---|---|---|---|"]
        out += [f"| {label} | {human_bytes(m['written_bytes'])} | {human_bytes(m['archived_bytes'])} | "
                f"{_projected(found, m['archived_bytes'])} |" for label, m in rows]
    again = (walc.get(configured) or {}).get("recompressed") if configured else None
    if again:
        out += ["", f"The `wal_compression={configured}` hour's {again['segments']} WAL segments "
                    f"({human_bytes(again['raw_bytes'])}), read back with `archive-get` and compressed again one "
                    "segment at a time as each pgBackRest `compress-type`/`compress-level` would:", "",
                "| archive compression | WAL stored | projected day |", "|---|---|---|"]
        out += [f"| {key} | {human_bytes(again[key])} | {_projected(found, again[key])} |"
                for key in again if key not in ("segments", "raw_bytes")]
    dumps = found.get("dump_compression")
    if dumps:
        out += ["", "The logical dump at other compressions (`pg_dump -Fc` of the stack's databases, "
                    "after the levers' hours, nothing stored):", "",
                "| dump compression | bytes |", "|---|---|"]
        out += [f"| {label} | {human_bytes(size)} |" for label, size in dumps.items()]
    return out


def markdown(doc: dict) -> str:
    """The whole report of a run."""
    m, d, scale = doc["machine"], doc["defaults"], doc["scale"]
    out = [
        f"# pgvault benchmark: {scale['name']} scale",
        "",
        f"Run {doc['started']} ({doc['duration_seconds'] / 60:.0f} min). Dataset: synthetic CRM, "
        f"`fab sandbox.seed --scale {scale['seed_scale']}`, {human_bytes(doc['database_bytes'])} of database. "
        f"Times are medians over repetitions, with the spread (max - min) / median and n.",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB RAM, {m['disk_gb']} GB disk "
        f"(I/O scheduler {m['io_scheduler']}); {m['os']}, kernel {m['kernel']}. PostgreSQL {m['postgresql']}, "
        f"{m['pgbackrest']}, SeaweedFS {m['seaweedfs']}; S3: {m['s3']}.",
        "",
        f"pgvault defaults measured: compression {d['compress_type']} level {d['compress_level']}, "
        f"process-max {d['backup_process_max']} for backups and {d['process_max']} for restores, "
        f"archive-async {'on' if d['archive_async'] else 'off'}, "
        f"archive_timeout {d['archive_timeout_seconds']} s, backup priority {d['backup_priority']}.",
        "",
        "## Targets",
        "",
        *targets_table(doc),
        "",
        "## 1. Full backup",
        "",
        *full_table(doc),
        "",
        "## 2. Incremental backup after changing rows (chosen at random across every table)",
        "",
        *incremental_table(doc),
        "",
        "## 3. Restore to a usable database (RTO)",
        "",
        *restore_table(doc),
        "",
        "## 4. Impact on production (pgbench, CRM-like read/write script, "
        f"{doc.get('load', {}).get('clients', '?')} clients, {scale['load_seconds']} s per run)",
        "",
        *impact_table(doc),
        "",
        f"## 5. WAL archiving under a write-heavy load ({scale['wal_seconds']} s)",
        "",
        *wal_table(doc),
        "",
        "## 6. Compression choices (full backups, configured process-max and priority)",
        "",
        *compression_table(doc),
        "",
    ]
    if "day" in doc:  # runs before this section existed have none
        out += ["## 7. A day of backups (bytes stored, as a multiple of the day's full)", "", *day_table(doc), ""]
    if "standby" in doc:
        seconds = doc["standby"].get("separate_run", {}).get("load_seconds", scale["load_seconds"])
        out += [f"## 8. Backups from the standby (the primary at half of its peak, {seconds} s per run)", "",
                *standby_table(doc), ""]
    return "\n".join(out)
