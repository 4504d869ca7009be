"""Where the service's memory goes before it sees any mail: interpreter, imports, detector.

Why a separate process: the service builds its language detector lazily (on the first mail),
so its baseline RSS does not show it, and the peak RSS of a drain does not say how much of it
is models and how much is mail. A fresh interpreter measures each step on its own.
"""

from __future__ import annotations

import json
import subprocess
import sys

from bench.service import bench_config

_PROBE = """
import json, sys

def vm():
    fields = dict(l.split(":", 1) for l in open("/proc/self/status") if l.startswith("Vm"))
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])

out = {"interpreter": vm()}
import responder.cli, responder.service.loop, responder.pipeline.decide  # what `responder run` loads
out["imports"] = vm()
from responder.pipeline import language
languages = tuple(sys.argv[1].split(","))
language.detect("Hola, me han cobrado dos veces la factura de octubre", languages, languages[0])
out["detector"] = vm()
print(json.dumps(out))
"""


def probe() -> dict[str, object]:
    """RSS and peak (KiB) after the interpreter, the service's imports, the language models."""
    languages = bench_config().reply.languages
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, ",".join(languages)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    steps = json.loads(done.stdout)
    return {
        "languages": list(languages),
        **{k: {"rss_kib": v[0], "hwm_kib": v[1]} for k, v in steps.items()},
    }
