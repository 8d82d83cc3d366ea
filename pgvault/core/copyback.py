"""Copying rows back after an accident: only what the accident removed or changed (pure).

A point-in-time restore to just before an accident holds the rows as they
were; production holds them as they are now.  The difference between the two
also contains every change made on purpose since the accident, so "insert
what production lacks" would bring back rows deleted deliberately later.
The PITR runbook therefore restores two moments, the target (just before the
accident) and the end of the accident, and this script compares those two:

* a row in the target's copy and not in the accident's (by primary key) was
  removed by the accident: it goes back, unless production has that key again;
* a row that differs between the two copies was changed by the accident: it
  gets its old values back, but only where production still holds what the
  accident left (a row changed again since is left alone and counted);
* rows added between the two moments are left alone.

The script is for ``psql`` reading standard input, with the table in the psql
variable ``table`` (``-v table=notes``, schema-qualified if needed): psql
quotes it as a literal and PostgreSQL resolves it with ``::regclass``, so a
typo fails before anything changes.  Everything runs in one transaction; the
two copies are loaded from CSV files into temporary tables dropped at commit.
"""

from __future__ import annotations

#: the CSV file a scratch cluster's copy of the table is exported to, inside the scratch folder (mode 0700,
#: owned by the PostgreSQL OS user; ``restore.drop`` deletes it with the cluster)
EXPORT_FILE = "copy-back.csv"

#: the columns a CSV export holds (``COPY`` leaves generated columns out), in table order, quoted
_COLUMNS = ("(SELECT array_agg(quote_ident(attname) ORDER BY attnum) FROM pg_attribute "
            "WHERE attrelid = tbl AND attnum > 0 AND NOT attisdropped AND attgenerated = '')")

_CREATE = f"""DO $$
DECLARE
  tbl regclass := current_setting('pgvault.copy_back')::regclass;
  cols text := array_to_string({_COLUMNS}, ', ');
BEGIN
  EXECUTE format('CREATE TEMP TABLE pgvault_before ON COMMIT DROP AS SELECT %s FROM %s WITH NO DATA', cols, tbl);
  EXECUTE format('CREATE TEMP TABLE pgvault_after ON COMMIT DROP AS SELECT %s FROM %s WITH NO DATA', cols, tbl);
END $$;"""

_APPLY = f"""DO $$
DECLARE
  tbl regclass := current_setting('pgvault.copy_back')::regclass;
  every text[] := {_COLUMNS};
  keys text[];
  cols text[];
  n bigint;
  b_a text;
  b_t text;
  t_row text;
BEGIN
  SELECT array_agg(quote_ident(a.attname) ORDER BY a.attnum) INTO keys
    FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
   WHERE i.indrelid = tbl AND i.indisprimary;
  IF keys IS NULL THEN
    RAISE EXCEPTION '% has no primary key: copy its rows back by hand', tbl;
  END IF;
  SELECT array_agg(c ORDER BY o) INTO cols FROM unnest(every) WITH ORDINALITY AS u(c, o) WHERE c <> ALL (keys);
  SELECT string_agg(format('b.%1$s = a.%1$s', k), ' AND '), string_agg(format('b.%1$s = t.%1$s', k), ' AND ')
    INTO b_a, b_t FROM unnest(keys) k;
  SELECT 'ROW(' || string_agg('t.' || c, ', ' ORDER BY o) || ')::text' INTO t_row
    FROM unnest(every) WITH ORDINALITY AS u(c, o);
  EXECUTE format('INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT b.* FROM pgvault_before b '
                 'WHERE NOT EXISTS (SELECT 1 FROM pgvault_after a WHERE %s) '
                 'AND NOT EXISTS (SELECT 1 FROM %s t WHERE %s)',
                 tbl, array_to_string(every, ', '), b_a, tbl, b_t);
  GET DIAGNOSTICS n = ROW_COUNT;
  RAISE NOTICE 'put back % row(s) the accident deleted', n;
  IF cols IS NOT NULL THEN
    EXECUTE format('UPDATE %s t SET (%s) = ROW(%s) FROM pgvault_before b JOIN pgvault_after a ON %s '
                   'WHERE %s AND b::text IS DISTINCT FROM a::text AND %s = a::text',
                   tbl, array_to_string(cols, ', '),
                   (SELECT string_agg('b.' || c, ', ' ORDER BY o) FROM unnest(cols) WITH ORDINALITY AS u(c, o)),
                   b_a, b_t, t_row);
    GET DIAGNOSTICS n = ROW_COUNT;
    RAISE NOTICE 'put back the old values of % row(s) the accident changed', n;
  END IF;
  EXECUTE format('SELECT count(*) FROM pgvault_before b JOIN pgvault_after a ON %s JOIN %s t ON %s '
                 'WHERE b::text IS DISTINCT FROM a::text AND %s IS DISTINCT FROM a::text '
                 'AND %s IS DISTINCT FROM b::text', b_a, tbl, b_t, t_row, t_row) INTO n;
  RAISE NOTICE 'left alone: % row(s) the accident changed that were changed again since', n;
END $$;"""


def script(before_csv: str, after_csv: str) -> str:
    """The psql script that copies back what the accident removed or changed (see the module docstring).

    :param before_csv: the table as it was at the target (just before the accident), exported as CSV
    :param after_csv: the table as the accident left it, exported as CSV
    :returns: psql input using the variable ``table``; paths must not hold a quote
    """
    for path in (before_csv, after_csv):
        if "'" in path:
            raise ValueError(f"path {path!r} has a quote")
    return "\n".join([
        "\\set QUIET on",
        "\\set ON_ERROR_STOP on",
        "SET pgvault.copy_back = :'table';",
        "BEGIN;",
        _CREATE,
        f"\\copy pgvault_before FROM '{before_csv}' CSV",
        f"\\copy pgvault_after FROM '{after_csv}' CSV",
        _APPLY,
        "COMMIT;",
        "",
    ])
