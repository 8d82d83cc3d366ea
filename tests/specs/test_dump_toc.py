"""A pg_dump archive's table of contents, fed with ``pg_restore -l`` and ``pg_restore -s`` output captured from
PostgreSQL 15 (a dump holding ``public.notes`` with a serial key, a unique and a check constraint, an index, a
trigger and its function, grants on the table, a column and the sequence, comments, row security, a policy, a
foreign key to ``clients``, one to itself and one from ``notes2``, and a second ``notes`` in schema ``crm2``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgvault.core.dumptoc import parse_definitions, parse_toc, resolve_table, select_table, tables
from pgvault.core.errors import ExitCode, UsageError

DATA = Path(__file__).parent / "data"
ENTRIES = parse_toc((DATA / "dump_toc.txt").read_text())
DEFINITIONS = parse_definitions((DATA / "dump_schema.sql").read_text())


def _names(selection) -> set[str]:
    return {f"{e.kind} {e.tag}" for e in selection.entries}


def test_the_table_of_contents_lists_every_table_with_its_schema():
    assert tables(ENTRIES) == ("crm2.notes", "public.Odd Name", "public.clients", "public.notes", "public.notes2")
    assert {e.kind for e in ENTRIES} >= {"TABLE DATA", "FK CONSTRAINT", "SEQUENCE OWNED BY", "SEQUENCE SET",
                                         "ROW SECURITY", "ACL", "COMMENT", "INDEX", "TRIGGER", "POLICY"}
    assert DEFINITIONS[("INDEX", "public", "notes_client")].strip().startswith(
        "CREATE INDEX notes_client ON public.notes USING btree")


def test_one_table_comes_with_its_keys_indexes_triggers_grants_and_sequence_in_archive_order():
    chosen = select_table(ENTRIES, DEFINITIONS, "public", "notes", into="crm_one")
    assert _names(chosen) == {
        "TABLE notes", "TABLE DATA notes", "DEFAULT notes id", "CONSTRAINT notes notes_pkey",
        "CONSTRAINT notes notes_body_created_at_key", "INDEX notes_client", "TRIGGER notes notes_touch",
        "FUNCTION touch()", "FK CONSTRAINT notes notes_parent_fkey", "ROW SECURITY notes", "POLICY notes p1",
        "ACL TABLE notes", "ACL COLUMN notes.body", "ACL SEQUENCE notes_id_seq", "COMMENT TABLE notes",
        "COMMENT COLUMN notes.body", "SEQUENCE notes_id_seq", "SEQUENCE OWNED BY notes_id_seq",
        "SEQUENCE SET notes_id_seq"}
    assert list(chosen.entries) == [e for e in ENTRIES if e in chosen.entries], "pg_restore -L keeps list order"
    assert chosen.list_file().splitlines() == [e.line for e in chosen.entries]
    assert chosen.tables() == ("public.notes",) and chosen.parts()["INDEX"] == 1 and chosen.parts()["ACL"] == 3
    assert chosen.skipped == ("FK CONSTRAINT public.notes notes_client_id_fkey (references public.clients, "
                              "which crm_one does not have)",)


def test_a_foreign_key_comes_when_its_table_is_there_and_a_present_function_is_not_created_again():
    chosen = select_table(ENTRIES, DEFINITIONS, "public", "notes", present={"public.clients", "public.touch"})
    names = _names(chosen)
    assert "FK CONSTRAINT notes notes_client_id_fkey" in names and "FUNCTION touch()" not in names
    assert "TRIGGER notes notes_touch" in names and "already has it" in chosen.skipped[0]


def test_an_identity_columns_sequence_comes_with_its_table_and_another_schemas_namesake_stays_out():
    assert _names(select_table(ENTRIES, DEFINITIONS, "public", "notes2")) == {
        "TABLE notes2", "TABLE DATA notes2", "SEQUENCE notes2_id_seq", "SEQUENCE SET notes2_id_seq"}
    assert _names(select_table(ENTRIES, DEFINITIONS, "crm2", "notes")) == {
        "SCHEMA crm2", "TABLE notes", "TABLE DATA notes", "CONSTRAINT notes notes_pkey", "INDEX notes_x"}


def test_a_table_is_found_by_name_or_schema_and_name():
    assert resolve_table(ENTRIES, "clients", "k") == ("public", "clients")
    assert resolve_table(ENTRIES, "crm2.notes", "k") == ("crm2", "notes")


@pytest.mark.parametrize("name, words", [
    ("contact", "table 'contact' is not in dump k"),
    ("clientz", "did you mean clients?"),
    ("public.clientz", "its tables: crm2.notes, public.Odd Name, public.clients, public.notes, public.notes2"),
    ("notes", "is in more than one schema of dump k; name one of: crm2.notes, public.notes"),
])
def test_a_table_the_dump_lacks_is_refused_listing_the_tables_it_has(name, words):
    with pytest.raises(UsageError) as caught:
        resolve_table(ENTRIES, name, "k")
    assert caught.value.code == ExitCode.USAGE and words in caught.value.one_line()
    assert "\n" not in caught.value.one_line()


#: a second dump (PostgreSQL 15): schema ``sales`` (comment, grant) holding enum ``stage`` (comment, grant),
#: composite ``money_range`` and table ``deals`` using them and domain ``public.email_address``; ``sales.other``
TYPED_ENTRIES = parse_toc((DATA / "dump_types_toc.txt").read_text())
TYPED_DEFINITIONS = parse_definitions((DATA / "dump_types_schema.sql").read_text())


def test_a_table_outside_public_comes_with_its_schema_and_the_types_its_columns_use():
    chosen = select_table(TYPED_ENTRIES, TYPED_DEFINITIONS, "sales", "deals", into="shop_one")
    assert _names(chosen) == {
        "SCHEMA sales", "COMMENT SCHEMA sales", "ACL SCHEMA sales", "DOMAIN email_address", "TYPE money_range",
        "TYPE stage", "COMMENT TYPE stage", "ACL TYPE stage", "TABLE deals", "ACL TABLE deals",
        "SEQUENCE deals_id_seq", "SEQUENCE OWNED BY deals_id_seq", "DEFAULT deals id", "TABLE DATA deals",
        "SEQUENCE SET deals_id_seq", "CONSTRAINT deals deals_pkey"}
    assert list(chosen.entries) == [e for e in TYPED_ENTRIES if e in chosen.entries]
    assert chosen.tables() == ("sales.deals",) and chosen.skipped == ()


def test_a_schema_or_type_the_target_has_is_not_created_again():
    chosen = select_table(TYPED_ENTRIES, TYPED_DEFINITIONS, "sales", "deals", into="shop",
                          present={"sales", "sales.stage", "public.email_address"})
    names = _names(chosen)
    assert not names & {"SCHEMA sales", "COMMENT SCHEMA sales", "ACL SCHEMA sales", "TYPE stage",
                        "COMMENT TYPE stage", "ACL TYPE stage", "DOMAIN email_address"}
    assert "TYPE money_range" in names
    assert set(chosen.skipped) == {"TYPE sales.stage (a column's type: shop already has it)",
                                   "DOMAIN public.email_address (a column's type: shop already has it)"}


def test_a_table_using_no_type_of_the_dump_takes_none():
    assert _names(select_table(TYPED_ENTRIES, TYPED_DEFINITIONS, "sales", "other")) == {
        "SCHEMA sales", "COMMENT SCHEMA sales", "ACL SCHEMA sales", "TABLE other", "TABLE DATA other"}
