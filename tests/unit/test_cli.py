"""The command line around the tasks: -h stays help's, every argument is a flag, required ones are checked,
and a mistyped task or option gets the closest name."""

from __future__ import annotations

import pytest
from invoke import Exit

from ops.cli import explain, usage_exit_code
from ops.tasks import ns, restore
from pgvault.core.errors import ExitCode

CONTEXTS = {context.name: context for context in ns.to_contexts()}


def test_no_task_takes_dash_h_and_no_argument_is_positional():
    assert "restore.logical" in CONTEXTS and "backup.mark" in CONTEXTS
    for name, context in CONTEXTS.items():
        assert "-h" not in context.flags, f"{name}: -h must show help"
        assert "--" not in context.flags, name
        assert not context.positional_args, f"{name}: a positional argument would swallow --help"
        if "--host" in context.flags:
            assert context.flags["--host"].names == ("host",)


def test_keeping_a_short_copy_is_spelled_out_and_only_offered_by_restore_full():
    assert CONTEXTS["restore.full"].flags["--accept-short"].names == ("accept-short",)
    assert "--accept-short" not in CONTEXTS["restore.pitr"].flags


def test_short_flags_other_than_host_stay_as_they_were():
    full = CONTEXTS["restore.full"].flags
    assert full["-n"].name == "name" and full["-o"].name == "no_backup" and full["-j"].name == "json_"


def test_a_required_flag_left_out_is_one_line_naming_it():
    with pytest.raises(Exit) as caught:
        restore.logical_.body(None, dump="2026-01-01", into=None)
    assert caught.value.code == ExitCode.USAGE
    assert caught.value.message.startswith("error: --into is required (a new database to restore into")


@pytest.mark.parametrize("message, context, words", [
    ("No idea what 'restore.ful' is!", None, "unknown task 'restore.ful'; did you mean restore.full? fab --list"),
    ("No idea what 'restor.logical' is!", None, "did you mean restore.logical?"),
    ("No idea what '--hots' is!", "restore.full",
     "unknown option --hots for restore.full; did you mean --host? fab restore.full --help lists its options"),
    ("No idea what '--target-nmae' is!", "restore.pitr", "did you mean --target-name?"),
    ("No idea what '--zzz' is!", "restore.pitr", "unknown option --zzz for restore.pitr; fab restore.pitr --help"),
    ("Flag <Argument: host> needed value and was not given one!", "backup.full",
     "option --host needs a value; fab backup.full --help says what it takes"),
])
def test_parse_errors_name_the_closest_task_or_option(message, context, words):
    assert words in explain(message, CONTEXTS.get(context), ns)


def test_a_mistyped_option_exits_2_except_for_the_monitoring_plugin_which_exits_unknown():
    assert usage_exit_code(ns, CONTEXTS["restore.full"]) == ExitCode.USAGE == 2
    assert usage_exit_code(ns, CONTEXTS["monitor.collect"]) == 3, "2 would read as CRITICAL to Nagios"
    assert usage_exit_code(ns, None) == ExitCode.USAGE
