"""What the folder watcher costs per poll (issue 15): `python -m bench.watcher_cost`.

A private Dovecot with seven watched folders, one of them holding N messages. Measures, on
loopback, the wall time and the IMAP commands of: an idle poll (nothing changed), a poll after
one flag change in the big folder, and a poll after one arrival.
"""

from __future__ import annotations

import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from responder.devstack.mailstack import MailStack
from responder.service.watcher import FolderWatcher

USER = "support@example.test"
FOLDERS = [
    "Sent",
    "INBOX",
    *(f"Queues/{q}" for q in ("billing", "technical", "orders", "account", "general")),
]


def message(n: int) -> bytes:
    return (
        f"From: c{n}@example.com\r\nTo: {USER}\r\nSubject: case {n}\r\n"
        f"Message-ID: <bench-{n}@example.com>\r\n\r\nbody {n}\r\n"
    ).encode()


def main(count: int = 5000, rounds: int = 20) -> None:
    with tempfile.TemporaryDirectory() as root, MailStack(Path(root), users=[USER]) as stack:
        with stack.imap(USER) as client:
            for folder in FOLDERS[2:]:
                client.create_folder(folder)
            for start in range(0, count, 500):
                items = [{"msg": message(n)} for n in range(start, min(count, start + 500))]
                client.multiappend("Queues/billing", items)
        commands: list[str] = []

        def connect() -> Any:
            client = stack.imap(USER)
            real = client._imap._command

            def counted(name: str, *args: Any) -> Any:
                commands.append(name)
                return real(name, *args)

            client._imap._command = counted
            return client

        db = sqlite3.connect(":memory:", isolation_level=None)
        watcher = FolderWatcher(connect, db, min_interval=0)
        watcher.watch(*FOLDERS)
        watcher.poll()

        def timed(prepare: Any) -> tuple[float, int]:
            times, cmds = [], []
            for i in range(rounds):
                prepare(i)
                commands.clear()
                started = time.perf_counter()
                watcher.poll(force=True)
                times.append(time.perf_counter() - started)
                cmds.append(
                    len([c for c in commands if c not in ("LOGIN", "LOGOUT", "CAPABILITY")])
                )
            return statistics.median(times) * 1000, int(statistics.median(cmds))

        def flag(i: int) -> None:
            with stack.imap(USER) as client:
                client.select_folder("Queues/billing")
                client.add_flags([i + 1], [b"\\Answered"])

        def arrive(i: int) -> None:
            with stack.imap(USER) as client:
                client.append("Sent", message(count + i))

        rows = [
            ("idle poll (nothing changed)", *timed(lambda i: None)),
            ("one flag changed in the big folder", *timed(flag)),
            ("one new message in Sent", *timed(arrive)),
        ]
        print(f"{len(FOLDERS)} folders, Queues/billing holds {count} messages, median of {rounds}")
        for name, ms, cmds in rows:
            print(f"  {name:<38} {ms:7.1f} ms  {cmds:3d} IMAP commands (besides login/logout)")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
