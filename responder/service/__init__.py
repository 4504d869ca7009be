"""The service: everything that talks to the world on the pipeline's behalf.

The IMAP and SMTP edges, the SQLite ledger, the outbox that sends, the filer that moves,
conversations read from the ledger, retries, systemd, and `loop` which runs
fetch → parse → guard → route → render → record → send → file.

May import: `responder.errors`, `responder.config`, `responder.pipeline`, `responder.lint`
(templates are linted before the service starts) and this package. Never `commands`,
`devstack` or `cli`.
"""
