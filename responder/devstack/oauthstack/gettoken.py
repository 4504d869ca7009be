"""A token command for the OAuth dev stack: client credentials at the fake IdP, JSON on stdout.

    python -m responder.devstack.oauthstack.gettoken URL CLIENT_ID SECRET_FILE

Prints {"access_token": ..., "expires_in": ...}; on refusal prints the provider's error on
stderr and exits 1, as a real token helper (oauth2ms, a vault CLI) would.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path


def main(argv: list[str]) -> int:
    url, client_id, secret_file = argv
    form = {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": Path(secret_file).read_text().strip(),
    }
    request = urllib.request.Request(url + "/token", data=urllib.parse.urlencode(form).encode())
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.load(response)
    except urllib.error.HTTPError as exc:
        error = json.load(exc)
        print(f"{error.get('error')}: {error.get('error_description', '')}", file=sys.stderr)
        return 1
    print(json.dumps({"access_token": answer["access_token"], "expires_in": answer["expires_in"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
