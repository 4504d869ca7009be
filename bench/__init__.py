"""Benchmarks for the responder against the project's own Dovecot + Postfix stack (issue #6).

Not part of the test suite: `python -m bench` (or `make bench`) starts private mail stacks on
loopback, runs the five scenarios (time-to-acknowledgment, burst, backlog drain, memory and
scale, pipeline cost), prints one table per scenario and writes every figure as JSON.
See bench/README.md for what each figure includes.
"""
