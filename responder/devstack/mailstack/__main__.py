"""`python -m responder.devstack.mailstack up|down|status DIR`: a MailStack for humans, demos and benchmarks.

`up` starts the stack in DIR and leaves it running after this process exits; ports and the CA file
are printed as KEY=VALUE lines and written to DIR/ports.env (source it from a shell). `up` again on
the same DIR reuses the ports and the mail; `down` stops it (mail is kept); `status` prints the
settings plus whether each daemon runs, and exits 1 unless both do.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import MailStack, MailStackError, servers_available


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m responder.devstack.mailstack", description=__doc__
    )
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("dir", type=Path, help="state directory of the stack (created by up)")
    args = parser.parse_args(argv)

    if args.command == "up":
        reason = servers_available()
        if reason:
            print(f"mailstack: {reason}", file=sys.stderr)
            return 2
    elif not (args.dir / "ports.env").exists():
        print(f"mailstack: no stack in {args.dir} (no ports.env)", file=sys.stderr)
        return 1 if args.command == "status" else 0

    stack = MailStack(args.dir)
    stack.detach()  # only `down` stops anything, and only explicitly
    try:
        if args.command == "up":
            stack.start()
        elif args.command == "down":
            stack.stop()
    except MailStackError as exc:
        print(f"mailstack: {exc}", file=sys.stderr)
        return 1

    for key, value in stack.env().items():
        print(f"{key}={value}")
    status = stack.status()
    for name, running in status.items():
        print(f"MAILSTACK_{name.upper()}={'running' if running else 'stopped'}")
    if args.command == "status":
        return 0 if all(status.values()) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
