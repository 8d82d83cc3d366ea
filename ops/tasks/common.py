"""What every task shares: the error handler, the shared flags, output helpers.

``@pgvault_task`` is ``invoke.task`` plus one top-level handler that turns a
:class:`~pgvault.core.errors.PgvaultError` into a single ``error: ...`` line on stderr
and the error's typed exit code, so cron and alerting can trust both.  Every
argument is a flag (``ops.cli``: ``-h`` stays help's); one without a default
is required, and a task run without it stops with one line naming it.
Shared flags have one spelling and one help text everywhere.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any

from invoke import Exit, task

from ops.cli import TASK_OPTIONS
from pgvault.core.errors import ExitCode, PgvaultError, UsageError

#: help texts of the flags every task spells the same way
SHARED_HELP = {
    "stack": "stack name (default: $PGVAULT_STACK or sandbox)",
    "dry_run": "show what would change (with diffs), change nothing",
    "json_": "print JSON instead of text",
    "force": "allow a destructive step (never the default)",
    "host": "only this configured host (default: every host of the stack)",
}


def pgvault_task(*, help: dict[str, str] | None = None, usage_exit: int = int(ExitCode.USAGE),
                 **kwargs) -> Callable:
    """Declare a Fabric task with the shared flag help and the error handler.

    :param usage_exit: exit code of a mistyped option or missing flag (``ops.cli.usage_exit_code``)
    """

    def decorate(fn: Callable) -> Any:
        signature = inspect.signature(fn)
        names = list(signature.parameters)[1:]
        texts = {k: v for k, v in SHARED_HELP.items() if k in names}
        texts.update(help or {})
        required = [n for n in names if signature.parameters[n].default is inspect.Parameter.empty]
        for name in required:
            texts[name] = f"(required) {texts.get(name, '')}".strip()

        @functools.wraps(fn)
        def body(c, *args, **kw):
            try:
                given = signature.bind_partial(c, *args, **kw).arguments
                for name in required:
                    if given.get(name) in (None, ""):
                        flag = "--" + name.strip("_").replace("_", "-")
                        what = texts[name].removeprefix("(required)").strip()
                        raise UsageError(f"{flag} is required" + (f" ({what})" if what else ""),
                                         "add it; --help lists every option")
                return fn(c, *args, **kw)
            except PgvaultError as exc:
                sys.stdout.flush()
                raise Exit(f"error: {exc.one_line()}", code=int(exc.code)) from None
            except Exit:  # a task's own exit code (monitor.collect's 1 and 2), already said
                sys.stdout.flush()
                raise
            except Exception as exc:  # noqa: BLE001 - one line for cron and alerting; the trace on demand
                if os.environ.get("PGVAULT_DEBUG"):
                    traceback.print_exc()
                text = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
                raise Exit(f"error: unexpected {text}; rerun with PGVAULT_DEBUG=1 for the traceback and report it",
                           code=int(ExitCode.FAILED)) from None

        declared = task(help=texts, **TASK_OPTIONS, **kwargs)(body)
        declared.usage_exit = usage_exit
        return declared

    return decorate


def say(text: str = "") -> None:
    """Print a line for the operator (stdout, flushed: progress must show live)."""
    print(text, flush=True)


def note(text: str = "") -> None:
    """Print progress to stderr, keeping stdout for a JSON document."""
    print(text, file=sys.stderr, flush=True)


def reporter(json_: bool):
    """The progress printer for a task: stderr when stdout carries JSON."""
    return note if json_ else say


def emit_json(document: Any) -> None:
    """Print a JSON document (sorted keys, so output is stable)."""
    print(json.dumps(document, indent=2, sort_keys=True, default=str), flush=True)
