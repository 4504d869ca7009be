"""`responder` command line: inspect, preview, check, lint, run, requeue, init, status,
promises, report, demo.

Every failure the user can cause (a bad file, a wrong setting, a broken
template, an unreachable server) ends in one line on stderr and a non-zero
exit, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from responder import config as config_module
from responder.errors import ResponderError

if TYPE_CHECKING:
    from responder.pipeline.decide import Pipeline

EXIT_USAGE = 2


def _load_config(args: argparse.Namespace) -> config_module.Config:
    return config_module.load(args.config)


def cmd_inspect(args: argparse.Namespace) -> int:
    from responder.pipeline.decide import Pipeline
    from responder.service.conversation import History
    from responder.service.ledger import Ledger

    config = _load_config(args)
    pipeline = Pipeline(config)
    history = None
    if args.state:
        history = History(Ledger.read_only(Path(args.state)), config.limits)
        _with_learned_model(pipeline, Path(args.state))
    status = 0
    for name in args.files:
        try:
            raw = Path(name).read_bytes()
        except OSError as exc:
            print(f"responder: cannot read {name}: {exc.strerror}", file=sys.stderr)
            status = EXIT_USAGE
            continue
        decision = pipeline.decide(raw, history=history)
        if args.json:
            data = decision.as_json()
            if len(args.files) > 1:
                data = {"file": name, **data}
            print(json.dumps(data, ensure_ascii=False))
        else:
            print(_summary(name, decision.as_json()))
    return status


def _with_learned_model(pipeline: Pipeline, state_dir: Path) -> None:
    """With --state, route as the daemon does: with the model learned from agents' moves."""
    from dataclasses import replace

    from responder.service.learning import MODEL_FILE, load_model

    model = load_model(state_dir / MODEL_FILE)
    pipeline.router = replace(pipeline.router, model=model)


def _summary(name: str, data: dict[str, object]) -> str:
    verdict = "reply" if data["auto_reply"] else f"no reply ({data['reason']})"
    priority = f"yes ({', '.join(data['priority_reasons'])})" if data["priority"] else "no"  # type: ignore[arg-type]
    lines = [
        f"{name}:",
        f"  decision:  {verdict}",
        f"  queue:     {data['queue']}",
        f"  priority:  {priority}",
        f"  language:  {data['language']}",
        f"  reference: {data['reference']}",
    ]
    reply = data["reply"]
    if isinstance(reply, dict):
        lines += [f"  reply to:  {reply['to']}", f"  subject:   {reply['subject']}"]
    return "\n".join(lines)


def cmd_preview(args: argparse.Namespace) -> int:
    from responder.commands.preview import preview

    return preview(_load_config(args), Path(args.file), language=args.lang, queue=args.queue)


def cmd_lint(args: argparse.Namespace) -> int:
    from responder.lint.run import main as lint_main

    return lint_main(_load_config(args), args.templates, as_json=args.json, explain=args.explain)


def cmd_check(args: argparse.Namespace) -> int:
    from responder.commands.check import check

    return check(_load_config(args))


def cmd_auth(args: argparse.Namespace) -> int:
    from responder.commands.auth_login import login

    return login(_load_config(args))


def cmd_run(args: argparse.Namespace) -> int:
    from responder.service.daemon import run

    return run(_load_config(args), once=args.once)


def cmd_routing(args: argparse.Namespace) -> int:
    from responder.commands import routing

    if args.action == "learn":
        if not args.from_folders:
            print("responder: routing learn needs --from-folders", file=sys.stderr)
            return EXIT_USAGE
        return routing.learn_from_folders(_load_config(args))
    return routing.report(_load_config(args), args.state)


def cmd_requeue(args: argparse.Namespace) -> int:
    from responder.commands.requeue import requeue

    return requeue(_load_config(args), args.keys, args.failed, args.uncertain)


def cmd_init(args: argparse.Namespace) -> int:
    from responder.commands.init import init

    return init(Path(args.directory))


def cmd_status(args: argparse.Namespace) -> int:
    from responder.commands.status import status

    return status(_load_config(args), as_json=args.json)


def cmd_promises(args: argparse.Namespace) -> int:
    from responder.commands.promises import show

    return show(_load_config(args), as_json=args.json)


def cmd_report(args: argparse.Namespace) -> int:
    from responder.commands.report import write_report

    return write_report(_load_config(args), Path(args.html))


def cmd_demo(args: argparse.Namespace) -> int:
    from responder.devstack.demo import demo

    return demo(keep=args.keep)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="responder", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--config", help="configuration file (default: $RESPONDER_CONFIG, config/responder.toml)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(
        name: str, handler: Callable[[argparse.Namespace], int], help_text: str
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--config", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        sub.set_defaults(handler=handler)
        return sub

    inspect = add("inspect", cmd_inspect, "decide one or more .eml files without sending anything")
    inspect.add_argument("files", nargs="+", metavar="FILE.eml")
    inspect.add_argument(
        "--json", action="store_true", help="one JSON object per file, one per line"
    )
    inspect.add_argument(
        "--state",
        metavar="DIR",
        help="judge against the ledger in DIR (follow-ups and caps, as the service would)",
    )
    preview = add("preview", cmd_preview, "show the acknowledgment a customer would receive")
    preview.add_argument("file", metavar="FILE.eml")
    preview.add_argument("--lang", help="force the language (ISO 639-1)")
    preview.add_argument("--queue", help="force the queue")
    lint = add("lint", cmd_lint, "check every template for deflection, missing elements and errors")
    lint.add_argument("--templates", help="template directory (default: reply.templates)")
    lint.add_argument("--json", action="store_true", help="one JSON object per finding")
    lint.add_argument(
        "--explain", action="store_true", help="also show sentences accepted by `lint: allow`"
    )
    add("check", cmd_check, "validate configuration and templates, log in to IMAP and SMTP")
    auth = add("auth", cmd_auth, "log the mailbox in for OAuth (Microsoft device code), once")
    auth.add_argument("action", choices=["login"], help="login: print the device-code steps")
    run = add("run", cmd_run, "watch the inbox and answer new mail (the service)")
    run.add_argument("--once", action="store_true", help="drain the inbox once and exit")
    routing = add(
        "routing", cmd_routing, "learn routing from the queue folders; report corrections"
    )
    routing.add_argument("action", choices=("learn", "report"))
    routing.add_argument(
        "--from-folders",
        action="store_true",
        help="learn: every message in the queue folders is an example (service stopped)",
    )
    routing.add_argument("--state", metavar="DIR", help="report: the ledger in DIR")
    requeue = add("requeue", cmd_requeue, "send failed or uncertain acknowledgments again")
    requeue.add_argument("keys", nargs="*", metavar="KEY", help="ledger keys of acknowledgments")
    requeue.add_argument("--failed", action="store_true", help="every acknowledgment refused (5xx)")
    requeue.add_argument(
        "--uncertain", action="store_true", help="every acknowledgment whose delivery is uncertain"
    )
    init = add("init", cmd_init, "write a starter configuration (config, routing, templates)")
    init.add_argument("directory", metavar="DIR", help="where to write it, e.g. /etc/responder")
    status = add("status", cmd_status, "what the service has done lately (reads the ledger)")
    status.add_argument("--json", action="store_true", help="one JSON object, for scripts")
    promises = add(
        "promises", cmd_promises, "open promises by due time: due soon, at risk, breached"
    )
    promises.add_argument("--json", action="store_true", help="one JSON array, for scripts")
    report = add("report", cmd_report, "write a self-contained HTML report of promises kept")
    report.add_argument("--html", required=True, metavar="FILE", help="where to write the page")
    demo = add(
        "demo", cmd_demo, "start a local mail stack, send sample complaints, show the result"
    )
    demo.add_argument("--keep", action="store_true", help="leave the mail stack running afterwards")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except ResponderError as exc:
        print(f"responder: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
