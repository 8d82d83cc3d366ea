"""``fab monitor.*``: collect the status, publish it, report it, show it."""

from __future__ import annotations

import http.server
from pathlib import Path

from invoke import Exit

from ops import ssh
from ops.tasks.common import emit_json, pgvault_task, say
from pgvault.actions import monitoring
from pgvault.core.errors import ExitCode, PgvaultError
from pgvault.core.monitoring import dashboard
from pgvault.core.monitoring.status import PLUGIN_UNKNOWN, headline, plugin_code, textfile_path
from pgvault.edges.stackfile import load_stack


def _documents(c, stack, host):
    cfg = load_stack(stack)
    return cfg, [(entry, conn, monitoring.document(conn, entry.name, view))
                 for entry, conn, view in ssh.connections(c, cfg, host)]


@pgvault_task(name="collect", usage_exit=PLUGIN_UNKNOWN)
def collect_(c, stack=None, host=None, json_=False):
    """Gather the status of backups, WAL, jobs and storage.

    Exits as monitoring plugins do: 0 ok, 1 warning, 2 critical (the worst host), 3 unknown: the status
    could not be collected at all, or the command line is wrong (the error line says why).
    """
    try:
        _, found = _documents(c, stack, host)
    except Exception as exc:  # noqa: BLE001 - every failure to collect is the plugin's UNKNOWN, never 1 or 2
        text = exc.one_line() if isinstance(exc, PgvaultError) else " ".join(f"{type(exc).__name__}: {exc}".split())
        raise Exit(f"error: {text[:400]}", code=PLUGIN_UNKNOWN) from None
    if json_:
        emit_json(found[0][2] if len(found) == 1 else {e.name: d for e, _, d in found})
    for entry, _, doc in [] if json_ else found:
        first = headline(doc)
        say(f"{entry.name}: {doc['state'].upper()}" + (f"  {first['message']}" if first else ""))
        if first:
            say(f"  what to do: {first['action']} ({first['runbook']})")
        for check in doc["checks"]:
            say(f"  [{check['state']:8}] {check['key']:18} {check['message']}")
    code = max(plugin_code(doc) for _, _, doc in found)
    if code:
        raise Exit(code=code)


@pgvault_task()
def publish(c, stack=None, host=None):
    """Send metrics to CloudWatch; write the textfile and status.json."""
    cfg, found = _documents(c, stack, host)
    for entry, conn, doc in found:
        problems = monitoring.publish(conn, cfg, doc)
        say(f"{entry.name}: published {doc['state'].upper()} to CloudWatch, {textfile_path(cfg)} and "
            f"{cfg.jobs.state_dir}/status.json")
        if problems:
            raise PgvaultError(f"publishing failed: {'; '.join(problems)}", "check the AWS endpoint and credentials",
                               ExitCode.UNREACHABLE)


@pgvault_task()
def report(c, stack=None, host=None):
    """Send the daily status e-mail (SNS and SMTP)."""
    cfg, found = _documents(c, stack, host)
    for entry, conn, doc in found:
        subject, problems = monitoring.report(conn, cfg, doc)
        say(f"{entry.name}: sent \"{subject}\"")
        if problems:
            raise PgvaultError(f"the report was not delivered everywhere: {'; '.join(problems)}",
                               "check the SNS topic and the SMTP settings", ExitCode.UNREACHABLE)


@pgvault_task(name="dashboard", help={"output": "where to write the page (default: dashboard-<stack>.html here)"})
def dashboard_(c, stack=None, host=None, output=None):
    """Write the backup dashboard as one self-contained HTML page."""
    cfg, found = _documents(c, stack, host)
    entry, _, doc = found[0]
    path = Path(output or f"dashboard-{cfg.name}.html")
    path.write_text(dashboard.render(doc))
    say(f"{entry.name}: {doc['state'].upper()}; dashboard written to {path.resolve()}")


@pgvault_task(help={"port": "port on 127.0.0.1 (default 8765)"})
def serve(c, stack=None, host=None, port=8765):
    """Serve the dashboard on 127.0.0.1, fresh on every load."""
    cfg = load_stack(stack)
    (entry, conn, cfg), = ssh.connections(c, cfg, host)[:1]

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server API
            body = dashboard.render(monitoring.document(conn, entry.name, cfg)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), Page)
    say(f"serving the {cfg.name} dashboard on http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
