"""The template linter: deflection, missing elements and broken Jinja, before a customer sees it.

Phrase lists are data (`config/lint/<lang>.toml`); `run` is the `responder lint` command,
`preflight` the gate that `check` and `run` pass through.

May import: `responder.errors`, `responder.config`, `responder.pipeline` (it renders
templates exactly as the pipeline does) and this package. Never `service`, `commands`,
`devstack` or `cli`.
"""
