"""The command line around the tasks: ``-h`` left to help, required flags, and "did you mean".

invoke gives every argument a short flag from its letters, so ``--host``
took ``-h`` and ``fab restore.full -h`` asked for a host instead of
showing help; and it makes an argument without a default positional, so
``fab restore.logical --help`` was eaten as the dump's name.
:class:`PgvaultTask` keeps ``-h`` for help, gives ``--host`` no short flag,
and :data:`TASK_OPTIONS` makes every argument a flag (the task checks the
required ones itself, in one line).  :func:`install` turns invoke's parse
errors (a mistyped task or option) into one ``error:`` line with the
closest name and exit code 2 (or the task's own, see :func:`usage_exit_code`).
"""

from __future__ import annotations

import re

from invoke import Collection, Exit, Program, Task
from invoke.exceptions import ParseError
from invoke.parser import ParserContext

from pgvault.core.errors import ExitCode, did_you_mean

#: letters no argument may take as its short flag: ``-h`` is help's (``--`` is no flag at all)
RESERVED_SHORT = frozenset({"h", "-"})
#: arguments with no short flag at all: ``--host`` (``-h`` was its; a new letter would surprise) and
#: ``--accept-short`` (keeping an incomplete copy is spelled out)
NO_SHORT_FLAG = frozenset({"host", "accept_short"})


class PgvaultTask(Task):
    """invoke's Task with ``-h`` left to help and the :data:`NO_SHORT_FLAG` arguments spelled out."""

    def arg_opts(self, name: str, default: str, taken_names: set[str]) -> dict:
        """invoke's options of one argument, short flag chosen among the letters help does not need."""
        opts = super().arg_opts(name, default, {*taken_names, *RESERVED_SHORT})
        if name in NO_SHORT_FLAG:
            opts["names"] = opts["names"][:1]
        return opts


#: ``invoke.task`` options of every pgvault task: no positional arguments (``--help`` is never a value)
TASK_OPTIONS = {"klass": PgvaultTask, "positional": []}


def explain(message: str, context: ParserContext | None, collection: Collection | None) -> str:
    """invoke's parse error as one line naming the fix: the closest task or option, and where the list is."""
    task = context.name if context is not None and context.name else None
    unknown = re.fullmatch(r"No idea what '(.*)' is!", message)
    missing_value = re.fullmatch(r"Flag <Argument: ([^ >]+).*> needed value and was not given one!", message)
    if unknown and unknown.group(1).startswith("-") and task:
        flags = [f for f in (*context.flags, *context.inverse_flags) if f.startswith("--")]
        return (f"unknown option {unknown.group(1)} for {task}; {did_you_mean(unknown.group(1), flags)}"
                f"fab {task} --help lists its options")
    if unknown:
        names = [n for name, aliases in (collection.task_names.items() if collection else ()) for n in (name, *aliases)]
        what = f"unknown task {unknown.group(1)!r}" + (f" after {task}" if task else "")
        return f"{what}; {did_you_mean(unknown.group(1), names)}fab --list lists the tasks"
    if missing_value:
        flag = missing_value.group(1).replace("_", "-").rstrip("-")
        return f"option --{flag} needs a value; fab {task or ''} --help says what it takes".replace("fab  ", "fab ")
    return f"{message.rstrip('!')}; fab {task + ' ' if task else ''}--help shows the usage"


def usage_exit_code(collection: Collection | None, context: ParserContext | None) -> int:
    """The exit code of a parse error in this task's command line: 2 (bad input), or the task's own
    ``usage_exit`` (``monitor.collect`` exits 3, a monitoring plugin's UNKNOWN, never a state it did not see)."""
    name = context.name if context is not None else None
    task = collection[name] if collection is not None and name and name in collection.task_names else None
    return getattr(task, "usage_exit", int(ExitCode.USAGE))


def install(program_class: type[Program] = Program) -> None:
    """Make ``fab``'s parse errors one ``error:`` line with a "did you mean" and exit code 2 (bad input)."""
    for step in ("parse_tasks", "parse_cleanup"):
        original = getattr(program_class, step)
        if getattr(original, "pgvault", False):
            continue

        def wrapped(self, _original=original) -> None:
            try:
                _original(self)
            except ParseError as exc:
                collection = getattr(self, "collection", None)
                raise Exit(f"error: {explain(str(exc), exc.context, collection)}",
                           code=usage_exit_code(collection, exc.context)) from None

        wrapped.pgvault = True  # type: ignore[attr-defined]
        setattr(program_class, step, wrapped)
