"""The CLI's subcommands that are more than a few lines: one module per command.

`responder.cli` parses arguments and dispatches here.

May import: `responder.errors`, `responder.config`, `responder.pipeline`, `responder.lint`,
`responder.service` and this package. Never `devstack` or `cli`.
"""
