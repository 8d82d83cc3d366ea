"""``fab runbooks.*``: render the runbooks from the stack."""

from __future__ import annotations

from ops import runbooks
from ops.tasks.common import pgvault_task, say
from pgvault.core.config import parse_stack
from pgvault.core.errors import ExitCode, PgvaultError
from pgvault.edges.stackfile import stack_name, stack_path


@pgvault_task(help={"check": "change nothing; exit 4 if a committed runbook differs from its rendering"})
def render(c, stack=None, check=False):
    """Render the runbooks into runbooks/<stack>/."""
    name = stack_name(stack)
    path = stack_path(name)
    # the committed runbooks name the database user a root install uses, whoever renders them
    cfg = parse_stack(path.read_text(), path.name, name, default_os_user="postgres")
    cfg = cfg.on(cfg.primary.name)  # the runbooks speak of the primary, wherever the stack file lists it
    folder = runbooks.ROOT / cfg.name
    if check:
        stale = [n for n, text in runbooks.render_all(cfg).items()
                 if not (folder / n).exists() or (folder / n).read_text() != text]
        if stale:
            raise PgvaultError(f"runbooks differ from the stack: {', '.join(stale)}",
                               f"run fab runbooks.render --stack {cfg.name} and commit the result", ExitCode.DRIFT)
        say(f"runbooks/{cfg.name}: up to date")
        return
    written = runbooks.write(cfg, folder)
    say(f"runbooks/{cfg.name}: {', '.join(written) if written else 'no changes'}")
