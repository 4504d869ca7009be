"""responder: acknowledges support mail the moment it arrives and routes it to a human queue.

The tree shows the architecture; imports only ever point down this list
(`tests/test_layout.py` enforces it):

- `errors`, `config` — the foundation: exceptions and the validated configuration;
- `pipeline/` — the pure decision: parse, guard, language, route, render;
- `lint/` — the template linter, built on the pipeline's renderer;
- `service/` — the edges and the daemon: IMAP, SMTP, ledger, outbox, filing, the loop;
- `commands/` — the CLI's subcommands; `cli` parses arguments and dispatches;
- `devstack/` — the private Dovecot + Postfix for tests, demo and benchmarks.
"""

__version__ = "0.1.0"
