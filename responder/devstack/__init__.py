"""The development mail stack: a private Dovecot + Postfix on loopback, and the demo on it.

Used by the tests, `responder demo` and the benchmarks; never by a production service.

May import anything in `responder` except `cli`.
"""
