"""The template linter: deflection, missing elements and broken Jinja, before a customer sees it.

Cue lists are data (`config/lint/<lang>.toml`): `cues` matches them on word stems,
`reader` judges a sentence by topic AND move (ownership clears it, negation lifts a
redirect), `allow` reads the `lint: allow` comments; `run` is the `responder lint`
command, `preflight` the gate that `check` and `run` pass through (errors only).

May import: `responder.errors`, `responder.config`, `responder.pipeline` (it renders
templates exactly as the pipeline does) and this package. Never `service`, `commands`,
`devstack` or `cli`.
"""
