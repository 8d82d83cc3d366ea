"""A ``pg_dump -Fc`` archive's table of contents, as data: which tables it holds, and one table with its parts.

``pg_restore -t`` restores a table's definition and rows only: not its
indexes, constraints, triggers, grants or sequences.  So a single-table
restore reads the archive's table of contents (``pg_restore -l``) and its
definitions (``pg_restore -s -f -``), and :func:`select_table` picks every
entry that belongs to the table, in the archive's own order, for
``pg_restore -L``.  A foreign key to a table the target database lacks, or
a trigger function the target already has, is left out and said so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pgvault.core.errors import UsageError, did_you_mean

#: entry types of more than one word, longest first (``pg_restore -l`` separates fields by spaces only)
_KINDS = ("SEQUENCE OWNED BY", "FK CONSTRAINT", "TABLE DATA", "SEQUENCE SET", "ROW SECURITY", "DEFAULT ACL",
          "TABLE ATTACH", "INDEX ATTACH", "MATERIALIZED VIEW DATA", "MATERIALIZED VIEW", "FOREIGN TABLE",
          "EVENT TRIGGER", "LARGE OBJECT", "BLOB")
_ENTRY = re.compile(r"^(?P<id>\d+); \d+ \d+ (?P<rest>.+)$")
_HEADER = re.compile(r"^-- Name: (?P<tag>.*); Type: (?P<kind>[^;]+); Schema: (?P<schema>[^;]+); Owner: [^;]*")
#: entries named "<table> <part>" (a column default, constraint, trigger or policy of the table)
_TABLE_PARTS = ("DEFAULT", "CONSTRAINT", "TRIGGER", "POLICY")


@dataclass(frozen=True)
class Entry:
    """One line of ``pg_restore -l``: the line itself (for ``-L``) and what it names."""

    line: str
    kind: str
    schema: str
    tag: str

    @property
    def key(self) -> tuple[str, str, str]:
        """What matches it to its definition in ``pg_restore -s`` output: (type, schema, tag)."""
        return self.kind, self.schema, self.tag

    def describe(self) -> str:
        """E.g. ``INDEX public.notes_client``."""
        return f"{self.kind} {self.schema}.{self.tag}" if self.schema != "-" else f"{self.kind} {self.tag}"


@dataclass(frozen=True)
class Selection:
    """What a single-table restore restores (archive order) and what it leaves out, with the reason."""

    table: str
    entries: tuple[Entry, ...]
    skipped: tuple[str, ...] = ()

    def list_file(self) -> str:
        """The list file for ``pg_restore -L``."""
        return "".join(entry.line + "\n" for entry in self.entries)

    def tables(self) -> tuple[str, ...]:
        """The tables whose rows it restores (``schema.table``)."""
        return tuple(f"{e.schema}.{e.tag}" for e in self.entries if e.kind == "TABLE DATA")

    def parts(self) -> dict[str, int]:
        """How many entries of each type besides the table itself, e.g. ``{"INDEX": 2, "ACL": 1}``."""
        counts: dict[str, int] = {}
        for entry in self.entries:
            if entry.kind not in ("TABLE", "TABLE DATA"):
                counts[entry.kind] = counts.get(entry.kind, 0) + 1
        return counts


def parse_toc(text: str) -> tuple[Entry, ...]:
    """The entries of ``pg_restore -l`` output (comment lines skipped)."""
    found = []
    for line in text.splitlines():
        match = _ENTRY.match(line.strip())
        if not match:
            continue
        rest = match.group("rest")
        kind = next((k for k in _KINDS if rest.startswith(k + " ")), rest.split(" ", 1)[0])
        fields = rest[len(kind) + 1:].split(" ")
        if len(fields) < 3:  # schema, tag (may hold spaces), owner
            continue
        found.append(Entry(line.strip(), kind, fields[0], " ".join(fields[1:-1])))
    return tuple(found)


def parse_definitions(sql: str) -> dict[tuple[str, str, str], str]:
    """Each entry's SQL in ``pg_restore -s -f -`` output, by (type, schema, tag)."""
    found: dict[tuple[str, str, str], str] = {}
    key, body = None, []
    for line in sql.splitlines():
        header = _HEADER.match(line)
        if header:
            if key:
                found[key] = "\n".join(body)
            key, body = (header.group("kind"), header.group("schema"), header.group("tag")), []
        elif key and not line.startswith("--"):
            body.append(line)
    if key:
        found[key] = "\n".join(body)
    return found


def tables(entries: Iterable[Entry]) -> tuple[str, ...]:
    """Every table in the archive, as ``schema.table``, sorted."""
    return tuple(sorted({f"{e.schema}.{e.tag}" for e in entries if e.kind == "TABLE"}))


def resolve_table(entries: Sequence[Entry], name: str, dump: str) -> tuple[str, str]:
    """The (schema, table) that ``--table`` names in the archive: ``schema.table``, or a name in one schema only.

    :raises UsageError: for a table the archive does not hold (listing those it does, the closest first) or an
        unqualified name found in more than one schema
    """
    known = tables(entries)
    schema, _, table = name.rpartition(".")
    found = [k for k in known if k == name] if schema else [k for k in known if k.split(".", 1)[1] == table]
    if len(found) == 1:
        return tuple(found[0].split(".", 1))  # type: ignore[return-value]
    if found:
        raise UsageError(f"table {name!r} is in more than one schema of dump {dump}",
                         f"name one of: {', '.join(found)}")
    hint = did_you_mean(name, [*known, *(k.split(".", 1)[1] for k in known)])
    raise UsageError(f"table {name!r} is not in dump {dump}",
                     f"{hint}its tables: {', '.join(known) or 'none'}; nothing was restored")


def _quoted(schema: str, name: str) -> str:
    """A regex for ``schema.name`` as pg_dump writes it (each part quoted only when it must be)."""
    return rf'(?:"{re.escape(schema)}"|{re.escape(schema)})\.(?:"{re.escape(name)}"|{re.escape(name)})'


def select_table(entries: Sequence[Entry], definitions: dict[tuple[str, str, str], str], schema: str, table: str,
                 present: Iterable[str] = (), into: str = "the target database") -> Selection:
    """Every entry that belongs to ``schema.table``: the table and its rows, column defaults, constraints,
    indexes, triggers (and their functions), policies, row security, grants, comments, the sequences
    it owns or draws defaults from (with their values and grants), the enums, domains and composite types its
    columns use, and its schema when the target lacks it.

    :param present: ``schema.name`` of the relations, functions and types the target database already has,
        and its schema names: a foreign key is restored only when the table it references is there (or is this
        table), a trigger's function, a column's type or the schema only when it is not
    :param into: the target database's name, for the reasons in :attr:`Selection.skipped`
    """
    have = set(present)
    me = _quoted(schema, table)

    def sql(entry: Entry) -> str:
        return definitions.get(entry.key, "")

    chosen: set[Entry] = set()
    skipped: list[str] = []
    sequences: set[str] = set()
    functions: set[str] = set()
    for entry in entries:
        if entry.schema != schema:
            continue
        owner_table = entry.tag.split(" ", 1)[0]
        if entry.kind in ("TABLE", "TABLE DATA", "ROW SECURITY") and entry.tag == table:
            chosen.add(entry)
        elif entry.kind in _TABLE_PARTS and owner_table == table:
            chosen.add(entry)
            text = sql(entry)
            sequences.update(re.findall(r"nextval\('([^']+)'", text))
            if entry.kind == "TRIGGER":
                functions.update(re.findall(r"EXECUTE (?:FUNCTION|PROCEDURE) ([^(\s]+)\(", text))
        elif entry.kind == "FK CONSTRAINT" and owner_table == table:
            referenced = re.search(r"REFERENCES ([^(\s]+)\(", sql(entry))
            target = referenced.group(1).replace('"', "") if referenced else None
            if target in (f"{schema}.{table}", *have):
                chosen.add(entry)
            else:
                skipped.append(f"{entry.describe()} (references {target or 'another table'}, which {into} "
                               "does not have)")
        elif entry.kind == "INDEX" and re.search(rf"\bON (?:ONLY )?{me} ", sql(entry)):
            chosen.add(entry)
        elif entry.kind == "SEQUENCE" and re.search(rf"ALTER TABLE (?:ONLY )?{me} ", sql(entry)):
            sequences.add(f"{schema}.{entry.tag}")  # an identity column's sequence
        elif entry.kind == "SEQUENCE OWNED BY" and re.search(rf"OWNED BY {me}\.", sql(entry)):
            sequences.add(f"{schema}.{entry.tag}")
    sequences = {s.replace('"', "") if "." in s else f"{schema}.{s}" for s in sequences}
    _add_types_and_schemas(entries, definitions, chosen, have, skipped, into)
    parts = {e.tag for e in chosen if e.kind == "INDEX"}
    for entry in entries:
        qualified = f"{entry.schema}.{entry.tag}"
        if entry.kind in ("SEQUENCE", "SEQUENCE OWNED BY", "SEQUENCE SET") and qualified in sequences:
            chosen.add(entry)
        elif entry.kind == "FUNCTION" and f"{entry.schema}.{entry.tag.split('(', 1)[0]}" in functions:
            if f"{entry.schema}.{entry.tag.split('(', 1)[0]}" in have:
                skipped.append(f"{entry.describe()} (the trigger's function: {into} already has it)")
            else:
                chosen.add(entry)
        elif entry.kind in ("ACL", "COMMENT") and _describes(entry, schema, table, sequences, parts, chosen):
            chosen.add(entry)
    return Selection(f"{schema}.{table}", tuple(e for e in entries if e in chosen), tuple(skipped))


#: kinds of the types a table's columns may use that a dump defines (enums and composites are ``TYPE``)
_TYPE_KINDS = ("TYPE", "DOMAIN")


def _add_types_and_schemas(entries: Sequence[Entry], definitions: dict[tuple[str, str, str], str],
                           chosen: set[Entry], have: set[str], skipped: list[str], into: str) -> None:
    """Add the types the chosen entries use (enums, domains, composites, and the types those use) and the
    schemas they all live in, unless the target already has them (``public`` always exists)."""
    types = [e for e in entries if e.kind in _TYPE_KINDS]
    pending = list(chosen)
    while pending:
        text = definitions.get(pending.pop().key, "")
        for entry in types:
            if entry in chosen or not re.search(_quoted(entry.schema, entry.tag) + r"\b", text):
                continue
            if f"{entry.schema}.{entry.tag}" in have:
                if f"{entry.describe()} (" not in " ".join(skipped):
                    skipped.append(f"{entry.describe()} (a column's type: {into} already has it)")
                continue
            chosen.add(entry)
            pending.append(entry)
    needed = {e.schema for e in chosen} - have - {"public", "-"}
    chosen.update(e for e in entries if e.kind == "SCHEMA" and e.tag in needed)
    chosen.update(e for e in entries if e.kind in ("ACL", "COMMENT") and e.schema == "-"
                  and e.tag.partition(" ")[::2] in {("SCHEMA", name) for name in needed})


def _describes(entry: Entry, schema: str, table: str, sequences: set[str], indexes: set[str],
               chosen: set[Entry]) -> bool:
    """Whether a grant or comment entry is about the table, one of its columns, sequences, indexes or parts,
    or a function chosen for it."""
    what, _, name = entry.tag.partition(" ")
    if what == "FUNCTION":
        return any(e.kind == "FUNCTION" and e.schema == entry.schema and e.tag == name for e in chosen)
    if entry.schema != schema:
        return False
    if what == "TABLE":
        return name == table
    if what == "COLUMN":
        return name.split(".", 1)[0] == table
    if what == "SEQUENCE":
        return f"{schema}.{name}" in sequences
    if what == "INDEX":
        return name in indexes
    if what in _TYPE_KINDS:
        return any(e.kind in _TYPE_KINDS and e.schema == entry.schema and e.tag == name for e in chosen)
    return what in ("CONSTRAINT", "TRIGGER", "POLICY") and name.endswith(f" ON {table}")
