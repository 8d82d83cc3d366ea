"""Point-in-time recovery targets: parse, validate against the window, pick the set.

pgBackRest recovers to the end of WAL, silently ignoring a time target, when
the chosen backup set is newer than the target; and with a name, LSN or xid
target it needs ``--set`` whenever the target is older than the latest
backup.  So pgvault always chooses the set itself (:func:`choose_set`) and
refuses, before anything changes, a target that is malformed, zone-less, in
the future or outside the recoverable window (:func:`validate`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pgvault.core.errors import UsageError
from pgvault.core.pgbackrest import BackupSet, StanzaInfo
from pgvault.core.wal import lsn_text, parse_lsn

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}$")


@dataclass(frozen=True)
class Target:
    """A recovery target: ``latest``, or a time, restore-point name, LSN or xid."""

    kind: str
    value: str = ""
    time: datetime | None = None
    lsn: int | None = None
    #: ``--target-timeline``: ``current``, ``latest`` or a number; ``None`` is PostgreSQL's default (latest)
    timeline: str | None = None

    def pgbackrest_options(self) -> list[str]:
        """``--type``/``--target``/``--target-timeline`` options for ``pgbackrest restore``."""
        line = [f"--target-timeline={self.timeline}"] if self.timeline else []
        if self.kind == "latest":
            return ["--type=default", *line]
        if self.kind == "immediate":
            return ["--type=immediate", "--target-action=promote"]
        return [f"--type={self.kind}", f"--target={self.value}", "--target-action=promote", *line]

    def describe(self) -> str:
        """Human form, e.g. ``time 2026-11-26 10:00:00+00``."""
        on = f" on timeline {self.timeline}" if self.timeline else ""
        if self.kind == "latest":
            return f"latest (end of archived WAL){on}"
        if self.kind == "immediate":
            return "the end of the oldest backup (immediate)"
        return f"{self.kind} {self.value}{on}"


@dataclass(frozen=True)
class Window:
    """The recoverable window: from the oldest consistent backup to the newest archived WAL."""

    earliest: datetime | None
    latest: datetime | None

    def describe(self) -> str:
        """``<earliest> .. <latest>`` in UTC, or a note that there is nothing to restore."""
        if self.earliest is None:
            return "no backup yet"
        latest = self.latest.isoformat(sep=" ", timespec="seconds") if self.latest else "unknown"
        return f"{self.earliest.isoformat(sep=' ', timespec='seconds')} .. {latest}"


#: a time followed by a zone name (``... Europe/Berlin``) or a bracketed one (RFC 9557: ``...[Europe/Berlin]``)
_ZONE_NAME = re.compile(r"^(?P<when>.+?)(?:\s+(?P<name>[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+)*)"
                        r"|\[(?P<bracketed>[^\]]+)\])$")
#: the forms a target time may take, for error messages
TIME_FORMS = ("'2026-11-26 14:05:00+00:00', '2026-11-26T14:05:00Z' or a zone by name: "
              "'2026-11-26 15:05:00 Europe/Berlin', '2026-11-26 15:05 CET'")


def _zone(name: str, text: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"time zone {name!r} in {text!r} is unknown",
                         f"write an offset or an IANA zone name, e.g. {TIME_FORMS}") from None


def _in_zone(naive: datetime, zone: ZoneInfo, text: str) -> datetime:
    """``naive`` as a wall-clock time in ``zone``; a time the clocks skipped or repeated there is refused."""
    first, second = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():
        skipped = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive
        what = "does not exist (the clocks skipped it)" if skipped else "happened twice (the clocks went back)"
        raise UsageError(f"target time {text!r} {what} in {zone.key}",
                         "write it with its UTC offset instead, e.g. '2026-10-25 02:30:00+01:00'")
    return first


def parse_time(text: str) -> datetime:
    """Parse a timestamp that names its zone (an offset, ``Z`` or a zone by name); return it in UTC.

    ``2026-11-26 14:05:00+00:00``, ``2026-11-26T14:05:00Z``, ``2026-11-26 15:05:00 Europe/Berlin``,
    ``2026-11-26 15:05 CET`` and ``2026-11-26T15:05:00[Europe/Berlin]`` are the same moment.  Zone names
    come from the IANA database (``zoneinfo``); a wall-clock time a daylight-saving change skipped or
    repeated in that zone is refused rather than guessed.

    :raises UsageError: when unparseable, without a zone, with an unknown zone, or ambiguous in its zone
    """
    stripped = text.strip()
    named = _ZONE_NAME.match(stripped)
    name = (named.group("name") or named.group("bracketed")) if named else None
    body = named.group("when").strip() if named else stripped
    try:
        value = datetime.fromisoformat(body.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"target time {text!r} is not a timestamp", f"write it like {TIME_FORMS}") from None
    if name:
        if value.tzinfo is not None:
            raise UsageError(f"target time {text!r} has both an offset and a zone name", "keep one of them")
        value = _in_zone(value, _zone(name, text), text)
    if value.tzinfo is None:
        raise UsageError(f"target time {text!r} has no time zone",
                         f"add one (times are ambiguous without it), e.g. {TIME_FORMS}")
    return value.astimezone(UTC)


def target_lsn(text: str) -> int:
    """Parse a ``--target-lsn`` value.

    :raises UsageError: for anything but PostgreSQL's ``X/Y`` form
    """
    try:
        return parse_lsn(text)
    except ValueError:
        raise UsageError(f"target LSN {text!r} is not an LSN", "write it like 0/3000060 (hex/hex)") from None


_SET = re.compile(r"^\d{8}-\d{6}F(_\d{8}-\d{6}[DI])?$")


def check_timeline(text: str) -> str:
    """A ``--target-timeline`` value: ``current``, ``latest`` or a timeline number.

    :raises UsageError: for anything else
    """
    value = str(text).strip().lower()
    if value in ("current", "latest") or re.fullmatch(r"[1-9][0-9]{0,8}", value):
        return value
    raise UsageError(f"target timeline {text!r} is not current, latest or a timeline number",
                     "write e.g. --target-timeline 2, in decimal (a set's WAL start names its timeline in hex)")


def check_set_label(text: str) -> str:
    """A ``--set`` value: a backup set label as ``fab backup.list`` shows it.

    :raises UsageError: for anything else
    """
    if not _SET.match(str(text).strip()):
        raise UsageError(f"backup set {text!r} is not a backup set label",
                         "copy one from fab backup.list, e.g. 20261130-020000F")
    return str(text).strip()


def with_timeline(target: Target, timeline: str | None) -> Target:
    """``target`` recovering along ``timeline`` (``check_timeline``), or unchanged for ``None``."""
    return target if timeline in (None, "") else replace(target, timeline=check_timeline(timeline))


def parse_target(time: str | None = None, name: str | None = None, lsn: str | None = None,
                 xid: str | None = None) -> Target:
    """Build the target from the restore flags; exactly one or none (latest).

    :raises UsageError: for two targets at once or a malformed one
    """
    given = {k: v for k, v in {"time": time, "name": name, "lsn": lsn, "xid": xid}.items() if v not in (None, "")}
    if len(given) > 1:
        raise UsageError(f"more than one target given ({', '.join(sorted(given))})", "give exactly one target")
    if not given:
        return Target("latest")
    kind, text = next(iter(given.items()))
    text = str(text)
    if kind == "time":
        when = parse_time(text)
        return Target("time", when.strftime("%Y-%m-%d %H:%M:%S.%f+00"), time=when)
    if kind == "lsn":
        value = target_lsn(text)
        return Target("lsn", lsn_text(value), lsn=value)
    if kind == "xid":
        if not re.fullmatch(r"[1-9][0-9]{0,19}", text.strip()):
            raise UsageError(f"target xid {text!r} is not a transaction id", "write a positive integer, e.g. 7401")
        return Target("xid", text.strip())
    if not _NAME.match(text):
        raise UsageError(
            f"restore point name {text!r} has characters pgvault does not accept",
            "use letters, digits, '.', '_', ':' and '-' (up to 63)",
        )
    return Target("name", text)


def window(backups: Sequence[BackupSet], last_archived: datetime | None) -> Window:
    """The recoverable window from the valid backup sets and the last archived WAL time."""
    valid = [b for b in backups if not b.error]
    if not valid:
        return Window(None, None)
    earliest = min(b.stop for b in valid)
    newest_stop = max(b.stop for b in valid)
    latest = max(newest_stop, last_archived) if last_archived else newest_stop
    return Window(earliest, latest)


def recoverable_window(stanza: StanzaInfo, primary: dict | None) -> Window:
    """The window from the stanza's backup sets and the primary's last archived WAL time (``None``: it is down)."""
    last = primary.get("last_archived_time") if primary else None
    return window(stanza.backups, datetime.fromisoformat(last) if last else None)


def validate(target: Target, win: Window, now: datetime, current_lsn: int | None = None,
             oldest_lsn: int | None = None) -> None:
    """Refuse a target that cannot be reached, before anything changes.

    :param now: the DB host's clock, in UTC
    :param current_lsn: the primary's current WAL position, if it is up
    :param oldest_lsn: stop LSN of the oldest valid backup
    :raises UsageError: naming the window
    """
    if win.earliest is None:
        raise UsageError("there is no backup to restore from", "run fab backup.full first")
    if target.time is not None:
        if target.time > now:
            raise UsageError(
                f"target time {target.time.isoformat(sep=' ')} is in the future "
                f"(host clock {now.isoformat(sep=' ', timespec='seconds')})",
                f"choose a time inside the recoverable window {win.describe()}",
            )
        if target.time <= win.earliest:
            raise UsageError(
                f"target time {target.time.isoformat(sep=' ')} is before the earliest restorable point",
                f"choose a time inside the recoverable window {win.describe()}",
            )
    if target.lsn is not None:
        if current_lsn is not None and target.lsn > current_lsn:
            raise UsageError(
                f"target LSN {target.value} is in the future (current {lsn_text(current_lsn)})",
                "choose an LSN already written",
            )
        if oldest_lsn is not None and target.lsn < oldest_lsn:
            raise UsageError(
                f"target LSN {target.value} is before the oldest backup's end ({lsn_text(oldest_lsn)})",
                f"choose a later LSN; the recoverable window is {win.describe()}",
            )


def choose_set(target: Target, backups: Sequence[BackupSet], point_lsn: int | None = None) -> BackupSet:
    """The newest valid backup set that ends before the target.

    :param point_lsn: for name and xid targets, an LSN known to be before the
        target (from pgvault's restore-point registry or canaries); without it
        the oldest set is used, which is always correct but replays more WAL
    :raises UsageError: when no set ends before the target
    """
    valid = sorted((b for b in backups if not b.error), key=lambda b: b.stop)
    if not valid:
        raise UsageError("there is no backup to restore from", "run fab backup.full first")
    if target.kind == "latest":
        return valid[-1]
    if target.kind == "immediate":
        return valid[0]
    if target.time is not None:
        fits = [b for b in valid if b.stop < target.time]
    else:
        bound = target.lsn if target.lsn is not None else point_lsn
        if bound is None:
            return valid[0]
        fits = [b for b in valid if b.lsn_stop and parse_lsn(b.lsn_stop) <= bound]
    if not fits:
        raise UsageError(
            f"no backup set ends before target {target.describe()}",
            f"choose a later target; oldest set {valid[0].label} ends {valid[0].stop.isoformat(sep=' ')}",
        )
    return fits[-1]
