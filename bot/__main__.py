"""The `secbot` command and the composition root. Nothing runs at import; `main()` parses and
dispatches. This is the one module of bot/ that imports `handlers`: it hands their routers and job
entry points to the app (`serve`, `demo`)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import stat
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from bot import logs
from bot.settings import Settings, SettingsError, with_env_file


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="secbot", description="Secbot: security reports, handled.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("serve", help="run the webhook server and the workers")
    s.add_argument("--host", help="address to listen on (default 0.0.0.0, or HOST)")
    s.add_argument("--port", type=int, help="port to listen on (default 3000, or PORT)")
    s.add_argument("--workers-processes", type=int, metavar="N", default=None,
                   help="run the workers in N processes beside the server (default: the cores less one, at least "
                        "one); 0 runs them on the server's own event loop")

    # Started by `serve` for each worker process (bot/jobs/process.py); not listed.
    sub.add_parser("work")

    sub.add_parser("migrate", help="create or upgrade the database schema")

    j = sub.add_parser("jobs", help="list jobs in the durable queue")
    j.add_argument("--json", action="store_true", help="one JSON object per line")
    j.add_argument("--state", choices=["queued", "running", "done", "dead"])
    j.add_argument("--limit", type=int, default=1000)

    rp = sub.add_parser("reports", help="list the security reports Secbot follows, or one report's timeline "
                                        "with the notes kept for the maintainers")
    rp.add_argument("report_id", nargs="?", type=int, metavar="REPORT_ID",
                    help="show this report's timeline, notes for the maintainers in full")
    rp.add_argument("--json", action="store_true", help="one JSON object per line")
    rp.add_argument("--state", help="only reports in this state")
    rp.add_argument("--repo", help="only reports of this repository (owner/name)")

    sh = sub.add_parser("show", help="one report with its triage card (claims checked, duplicates, reporter, "
                                     "suggested next step)")
    sh.add_argument("report", metavar="GHSA_ID|REPORT_ID", help="the report's advisory id, or Secbot's report id")
    sh.add_argument("--json", action="store_true", help="the card as JSON")

    fb = sub.add_parser("feedback", help="maintainers' answers to verdicts (/sec confirm, hide, not-security)")
    fb_sub = fb.add_subparsers(dest="feedback_command", required=True, metavar="ACTION")
    fe = fb_sub.add_parser("export", help="write them as JSON Lines, for retraining the classifier")
    fe.add_argument("--out", metavar="FILE", help="write to FILE, created with mode 0600 (default: standard output)")
    fe.add_argument("--repo", help="only answers about this repository (owner/name)")
    fe.add_argument("--no-text", action="store_true", help="leave out the texts (labels, scores and features only)")

    r = sub.add_parser("retry", help="re-queue a dead job")
    r.add_argument("job_id", type=int, metavar="JOB_ID")

    c = sub.add_parser("check-config", help="validate a .github/secbot.yml file")
    c.add_argument("path", metavar="PATH")

    sub.add_parser("demo", help="play Secbot's scenarios against a built-in GitHub emulator (no account needed)")

    k = sub.add_parser("classify", help="classify issues read as JSON Lines {title, body}")
    k.add_argument("file", nargs="?", metavar="FILE", help="JSON Lines file (default: standard input)")
    k.add_argument("--threshold", type=float, help="score from which an issue counts as a vulnerability report")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "check-config":
            return check_config(args.path)
        if args.command == "classify":
            return classify(args.file, args.threshold)
        if args.command == "demo":
            import handlers
            from bot.emulator.demo import run_demo

            return asyncio.run(run_demo(routers=handlers.ROUTERS, jobs=handlers.JOBS))
        env, env_file = with_env_file(os.environ)
        settings = Settings.from_env(env, host=getattr(args, "host", None), port=getattr(args, "port", None))
        if env_file is not None:
            _check_env_file_mode(env_file)
        logs.setup(settings.log_level, settings.log_format)
        if args.command == "serve":
            if args.workers_processes is not None and args.workers_processes < 0:
                raise SettingsError("--workers-processes must be 0 or more")
            from bot.jobs.process import default_processes

            processes = default_processes() if args.workers_processes is None else args.workers_processes
            from bot.rules import lanes  # the table of what the handlers take, without importing them

            return serve(settings, handlers=_handlers, worker_processes=processes, taken=lanes.taken)
        if args.command == "work":
            import handlers
            from bot.jobs.process import WRITER_SOCKET, run_worker_process

            settings.check_serve()
            asyncio.run(run_worker_process(settings, routers=handlers.ROUTERS, jobs=handlers.JOBS,
                                           writer_socket=os.environ.get(WRITER_SOCKET)))
            return 0
        return asyncio.run(_db_command(args, settings))
    except SettingsError as exc:
        print(f"secbot: {exc}", file=sys.stderr)
        return 2


def _handlers() -> tuple[Sequence[Any], Mapping[str, Any]]:
    """The handlers' routers and job entry points, imported when the jobs run in this process."""
    import handlers

    return handlers.ROUTERS, handlers.JOBS


def serve(settings: Settings, **app_options: Any) -> int:
    """Run the web server until it is stopped: the app built with the handlers' `routers` and `jobs`
    (or those its `handlers` returns, see `create_app`), or the setup page when no credentials are
    configured."""
    import secrets

    from aiohttp import web

    from bot.web.app import create_app, metrics_listener, server_options
    from bot.web.keys import WORKER_PROCESSES

    _raise_open_files_limit()
    if settings.setup_mode:
        # No credential at all: register the App through the setup page instead of refusing.
        # Only who can read this process's output may use the page: it asks for this token.
        from bot.web.setup_page import create_setup_app

        token = secrets.token_urlsafe(24)
        app = create_setup_app(settings, token=token)
        base = settings.public_url or f"http://{_shown_host(settings.host)}:{settings.port}"
        print(f"secbot: no GitHub App credentials (setup mode); to register the App open\n"
              f"  {base}/setup?token={token}\n"
              "(the link works until Secbot stops; the setup page refuses anyone without it)", file=sys.stderr)
    else:
        settings.check_serve()  # some credentials but not all: refuse, naming what is missing
        app = create_app(settings, **{"migrate_apart": True, **app_options})
        if settings.metrics_port is not None:
            app.cleanup_ctx.append(metrics_listener(settings))
        app.on_startup.append(_freeze_startup_objects)
    web.run_app(app, host=settings.host, port=settings.port, print=None, access_log=None, shutdown_timeout=15,
                **server_options(settings))
    children = app.get(WORKER_PROCESSES)
    return 1 if children is not None and children.broken else 0  # no worker process could start


def _raise_open_files_limit() -> None:
    """Raise the soft limit on open files to the hard limit, and log both: every connection is a
    file descriptor, and a server at a soft limit of 1,024 stops accepting GitHub's deliveries
    once that many connections are open (idle ones are closed after SECBOT_READ_TIMEOUT)."""
    try:
        import resource
    except ImportError:  # not a POSIX system
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = [hard] if hard != resource.RLIM_INFINITY else [1 << 20, 65536, 10240]  # macOS caps "unlimited"
    raised = soft
    for limit in wanted:
        if limit <= soft:
            break
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
        except (ValueError, OSError):
            continue
        raised = limit
        break
    extra = {"soft_limit": raised, "hard_limit": "unlimited" if hard == resource.RLIM_INFINITY else hard}
    if raised != soft:
        logs.get("secbot.serve").info(f"open files: soft limit raised from {soft} to {raised}", extra=extra)
    else:
        logs.get("secbot.serve").info(f"open files: soft limit {soft}", extra=extra)


async def _freeze_startup_objects(_app: Any) -> None:
    """Leave what exists once the server is up (modules, the classifier's tables, the schema,
    connections) out of every later garbage collection. Without this, each full collection
    walks all of it: a pause of 40-80 ms that every webhook arriving meanwhile waits through,
    enough on its own to spoil the latency percentiles."""
    gc.collect()
    gc.freeze()


def _shown_host(host: str) -> str:
    return "localhost" if host in ("0.0.0.0", "::", "") else host


def _check_env_file_mode(path: str) -> None:
    """Warn when the credentials file can be read by others (the setup page writes it 0600)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        print(f"secbot: warning: {path} holds secrets but can be read by others (chmod 600 {path})", file=sys.stderr)


async def _db_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.clock import SystemClock
    from bot.jobs.queue import Queue
    from bot.store import Store
    from bot.store.migrate import upgrade

    store = Store.open(settings.database_url, pool_size=1)
    try:
        await upgrade(store)
        if args.command == "migrate":
            print("secbot: database is up to date")
            return 0
        if args.command == "reports":
            from bot.store.reports import Reports

            from bot.store.triage import TriageCards

            cards = TriageCards(store)
            if args.report_id is not None:
                code = await _report_timeline(Reports(store), args.report_id, args.json)
                kept = await cards.get(args.report_id) if code == 0 and not args.json else None
                if kept is not None:
                    print("\n" + _card_text(kept))
                return code
            for report in await Reports(store).list(repo=args.repo, state=args.state):
                row = report.summary()
                kept = await cards.get(report.id)
                row["triage"] = kept["suggestion"]["step"] if kept else None
                if args.json:
                    sys.stdout.write(orjson.dumps(row).decode() + "\n")
                else:
                    where = row["ghsa_id"] if row["source"] == "advisory" else f"#{row['number']}"
                    print(f"{row['id']:>6}  {row['repo']:<40} {where:<22} {row['state']:<13} "
                          f"{row['severity'] or '-':<9} {row['reporter']}"
                          + (f"  {row['cve_id']}" if row["cve_id"] else "")
                          + (f"  reward: {row['reward']}" if row["reward"] else "")
                          + (f"  card: {row['triage']}" if row["triage"] else ""))
            return 0
        if args.command == "show":
            return await _show(store, args.report, args.json)
        if args.command == "feedback":
            return await _export_feedback(store, args)
        queue = Queue(store, SystemClock(), max_attempts=settings.max_attempts)
        if args.command == "jobs":
            for job in await queue.list(state=args.state, limit=args.limit):
                _print_job(job.summary(), args.json)
            return 0
        if args.command == "retry":
            if await queue.retry(args.job_id):
                print(f"secbot: job {args.job_id} is queued again")
                return 0
            job = await queue.get(args.job_id)
            why = "no such job" if job is None else f"it is {job.state}, not dead"
            print(f"secbot: cannot retry job {args.job_id}: {why}", file=sys.stderr)
            return 1
    finally:
        await store.close()
    raise AssertionError(args.command)


async def _show(store: Any, wanted: str, as_json: bool) -> int:
    """`secbot show GHSA-...|ID`: a report and its triage card (private: for maintainers)."""
    from bot.store.reports import Reports
    from bot.store.triage import TriageCards

    reports = Reports(store)
    report = await (reports.get(int(wanted)) if wanted.isdigit() else reports.by_ghsa(wanted))
    if report is None:
        print(f"secbot: no report {wanted}", file=sys.stderr)
        return 1
    kept = await TriageCards(store).get(report.id)
    if as_json:
        sys.stdout.write(orjson.dumps({"report": report.summary(), "card": kept}).decode() + "\n")
        return 0
    row = report.summary()
    print(f"report {row['id']}  {row['repo']}  {row['ghsa_id'] or '-'}  {row['state']}  reported by {row['reporter']}")
    print("\n" + (_card_text(kept) if kept else "no triage card (made for private reports and hidden public ones)"))
    return 0


def _card_text(card: dict[str, Any]) -> str:
    from bot.render import render

    return render("triage_card", card=card).rstrip()


async def _export_feedback(store: Any, args: argparse.Namespace) -> int:
    """`secbot feedback export`: one JSON object per answer, oldest first. The texts are private
    report text: a file is created readable by its owner only, and an existing one is refused."""
    from bot.store.feedback import Feedback

    out: Any = sys.stdout
    if args.out:
        try:
            fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            print(f"secbot: {args.out} exists; not overwriting it", file=sys.stderr)
            return 1
        out = os.fdopen(fd, "w", encoding="utf-8")
    n = 0
    try:
        async for row in Feedback(store).export(repo=args.repo, with_text=not args.no_text):
            out.write(orjson.dumps(row).decode() + "\n")
            n += 1
    finally:
        if out is not sys.stdout:
            out.close()
    print(f"secbot: {n} answer(s) exported", file=sys.stderr)
    return 0


async def _report_timeline(reports: Any, report_id: int, as_json: bool) -> int:
    """`secbot reports ID`: one report's timeline. Notes for the maintainers that had no private
    tracker to go to (bot/reports/outreach.py) are printed in full; report text never is."""
    from bot.clock import iso
    from bot.store.reports import NOTE

    report = await reports.get(report_id)
    if report is None:
        print(f"secbot: no report {report_id}", file=sys.stderr)
        return 1
    events = await reports.timeline(report_id)
    if as_json:
        for e in events:
            detail = e["detail"] or {}
            row = {"report": report_id, "at": iso(e["at"]), "kind": e["kind"], "actor": e["actor"],
                   "detail": {k: v for k, v in detail.items() if k != "key"} if e["kind"] == NOTE else detail}
            sys.stdout.write(orjson.dumps(row).decode() + "\n")
        return 0
    row = report.summary()
    where = row["ghsa_id"] or (f"#{row['number']}" if row["number"] else "-")
    print(f"report {row['id']}  {row['repo']}  {where}  {row['state']}  severity {row['severity'] or '-'}  "
          f"reported by {row['reporter']}" + (f"  {row['cve_id']}" if row["cve_id"] else "")
          + (f"  reward: {row['reward']}" if row["reward"] else ""))
    for e in events:
        print(f"  {iso(e['at'])}  {e['kind']}" + (f" by {e['actor']}" if e["actor"] else ""))
        if e["kind"] == NOTE:
            for line in str((e["detail"] or {}).get("note", "")).splitlines():
                print(f"      {line}")
    return 0


def _print_job(summary: dict[str, Any], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(orjson.dumps(summary).decode() + "\n")
        return
    print(
        f"{summary['id']:>7}  {summary['state']:<8} {summary['kind']:<14} {summary['event'] or '':<32} {summary['lane']:<7}"
        f" attempts={summary['attempts']} run_at={summary['run_at']}"
        + (f"  error={summary['last_error']}" if summary["last_error"] else "")
    )


def check_config(path: str) -> int:
    from bot.rules.config import parse

    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        print(f"secbot: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    _, problems = parse(text)
    for problem in sorted(problems, key=lambda p: (p.line or 0, p.path)):
        line = f"{path}:{problem.line}" if problem.line else path
        print(f"{line}: {problem.path or '(file)'}: {problem.message}")
    if problems:
        print(f"secbot: {len(problems)} problem(s) in {path}", file=sys.stderr)
        return 1
    print(f"secbot: {path} is valid")
    return 0


def classify(path: str | None, threshold: float | None) -> int:
    from bot.rules.detect import Thresholds, classify_stream

    thresholds = Thresholds(public=threshold, notify=min(threshold, Thresholds().notify)) if threshold is not None else None
    if path is None:
        bad = classify_stream(sys.stdin, sys.stdout, thresholds)
    else:
        with open(path, encoding="utf-8") as fh:
            bad = classify_stream(fh, sys.stdout, thresholds)
    sys.stdout.flush()
    if bad:
        print(f"secbot: {bad} line(s) could not be classified (see their error)", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
