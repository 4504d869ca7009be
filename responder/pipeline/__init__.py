"""The pure decision pipeline: raw bytes in, a decision out.

parse → guard → language → route → render, and `decide` which orders them. Everything here
is a function of the message, the loaded configuration and an injected clock: no sockets, no
writes, no reading of anything but configuration and templates. It serves `inspect`, the
tests and the daemon alike.

May import: `responder.errors`, `responder.config` and this package. Nothing from
`service`, `lint`, `commands` or `devstack`.
"""
