"""A fake OAuth2 identity provider on loopback, for tests and the OAuth dev stack.

It plays three parts: the token-introspection endpoint Dovecot's oauth2 passdb asks whether a
token is good (RFC 7662), a token endpoint (client credentials, refresh tokens, device code,
and Google's JWT-bearer grant) reached by token commands and, through `transport.py`, by msal
and google-auth; and Entra's OpenID/device-code endpoints under /ms. Every request is counted,
so tests can tell a retry storm from a single try. Tokens are opaque and live in memory.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import urllib.parse
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MS_HOST = "https://login.microsoftonline.com"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class FakeIdP:
    def __init__(self, ttl: float = 3600.0) -> None:
        self.ttl = ttl
        self.tokens: dict[str, tuple[str, float]] = {}  # access token -> (user, expiry)
        self.refresh: dict[str, str] = {}  # refresh token -> user
        self.clients: dict[str, tuple[str, str, int]] = {}  # id -> (secret, user, token length)
        self.revoked: set[str] = set()  # users whose grants are revoked
        self.requests: Counter[str] = Counter()  # "introspect", "token:<grant>", ...
        self.device_user = ""  # who "approves" device-code logins
        self.lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread: threading.Thread | None = None

    def start(self) -> FakeIdP:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- what tests set up and look at ---

    def add_client(self, client_id: str, secret: str, user: str, token_length: int = 0) -> None:
        with self.lock:
            self.clients[client_id] = (secret, user, token_length)

    def mint(self, user: str, ttl: float | None = None, length: int = 0) -> str:
        token = "tok-" + secrets.token_urlsafe(24)
        if length:
            token = (token + "x" * length)[:length]
        with self.lock:
            self.tokens[token] = (user, time.time() + (self.ttl if ttl is None else ttl))
        return token

    def revoke(self, user: str) -> None:
        """Revoke every grant of `user` (as an admin or a password change would)."""
        with self.lock:
            self.revoked.add(user)
            self.tokens = {t: v for t, v in self.tokens.items() if v[0] != user}

    def restore(self, user: str) -> None:
        with self.lock:
            self.revoked.discard(user)

    def count(self, prefix: str) -> int:
        with self.lock:
            return sum(n for key, n in self.requests.items() if key.startswith(prefix))

    # --- the endpoints ---

    def introspect(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            user, expiry = self.tokens.get(form.get("token", ""), ("", 0.0))
        if not user or expiry < time.time() or user in self.revoked:
            return 200, {"active": False}
        return 200, {"active": True, "username": user, "scope": "mail", "exp": int(expiry)}

    def token(self, form: dict[str, str], tenant: str) -> tuple[int, dict[str, Any]]:
        grant = form.get("grant_type", "")
        user, length, extra = "", 0, {}
        if grant == "client_credentials":
            client_id = form.get("client_id", "")
            secret, user, length = self.clients.get(client_id, ("", "", 0))
            assertion = _jwt_claims(form.get("client_assertion", ""))  # a certificate's JWT
            signed = bool(secret) and assertion.get("iss") == assertion.get("sub") == client_id
            if not secret or (secret != form.get("client_secret") and not signed):
                return _error("invalid_client", "AADSTS7000215: Invalid client secret provided.")
        elif grant == "refresh_token":
            user = self.refresh.get(form.get("refresh_token", ""), "")
        elif grant == DEVICE_GRANT:
            user = self.device_user
            extra = self._delegated(user, form.get("client_id", ""), tenant)
        elif grant == JWT_GRANT:
            claims = _jwt_claims(form.get("assertion", ""))
            if "https://mail.google.com/" not in str(claims.get("scope", "")):
                return _error("invalid_scope", "wrong scope")
            user = str(claims.get("sub", ""))
        else:
            return _error("unsupported_grant_type", grant)
        if not user or user in self.revoked:
            if grant == JWT_GRANT:  # Google's words
                return _error(
                    "invalid_grant", "Invalid grant: account not found or delegation revoked."
                )
            return _error("invalid_grant", "AADSTS70000: The grant is expired or revoked.")
        if grant == "refresh_token":
            extra = self._delegated(user, form.get("client_id", ""), tenant)
        token = self.mint(user, length=length)
        answer = {"access_token": token, "token_type": "Bearer", "expires_in": int(self.ttl)}
        return 200, answer | extra

    def _delegated(self, user: str, client_id: str, tenant: str) -> dict[str, Any]:
        """What Entra adds for a user: a refresh token, an ID token, client_info."""
        refresh = "rt-" + secrets.token_urlsafe(16)
        with self.lock:
            self.refresh[refresh] = user
        uid = base64.urlsafe_b64encode(user.encode()).decode().rstrip("=")
        now = int(time.time())
        claims = {"iss": f"{MS_HOST}/{tenant}/v2.0", "aud": client_id, "sub": uid, "oid": uid,
                  "tid": tenant, "preferred_username": user, "iat": now, "exp": now + 3600}  # fmt: skip
        info = {"uid": uid, "utid": tenant}
        return {
            "refresh_token": refresh,
            "id_token": f"{_b64(json.dumps({'alg': 'none', 'typ': 'JWT'}))}.{_b64(json.dumps(claims))}.",
            "client_info": _b64(json.dumps(info)),
            "scope": "https://outlook.office365.com/IMAP.AccessAsUser.All "
            "https://outlook.office365.com/SMTP.Send openid profile offline_access",
        }

    def get(self, path: str) -> tuple[int, dict[str, Any]]:
        parts = path.split("?")[0].strip("/").split("/")
        if parts[:1] == ["ms"] and path.split("?")[0].endswith("openid-configuration"):
            base = f"{MS_HOST}/{parts[1]}"
            return 200, {
                "issuer": f"{base}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            }
        if parts[:1] == ["ms"] and "discovery" in parts:
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
            endpoint = query.get("authorization_endpoint", [""])[0]
            tenant = urllib.parse.urlsplit(endpoint).path.strip("/").split("/")[0] or "common"
            well_known = f"{MS_HOST}/{tenant}/v2.0/.well-known/openid-configuration"
            return 200, {"tenant_discovery_endpoint": well_known, "metadata": []}
        return 404, {"error": "not_found"}

    def device_code(self) -> tuple[int, dict[str, Any]]:
        return 200, {
            "device_code": "dc-" + secrets.token_urlsafe(8),
            "user_code": "ABCD-EFGH",
            "verification_uri": "https://microsoft.com/devicelogin",
            "expires_in": 900,
            "interval": 0,
            "message": "To sign in, open https://microsoft.com/devicelogin and enter ABCD-EFGH.",
        }


def _handler(idp: FakeIdP) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, code: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            with idp.lock:
                idp.requests["get"] += 1
            self._answer(*idp.get(self.path))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            form = {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}
            path = self.path.split("?")[0]
            kind = "introspect" if path.endswith("/introspect") else path.rsplit("/", 1)[-1]
            if kind == "token":
                kind = f"token:{form.get('grant_type', '')}"
            with idp.lock:
                idp.requests[kind] += 1
            if path.endswith("/introspect"):
                self._answer(*idp.introspect(form))
            elif path.endswith("/devicecode"):
                self._answer(*idp.device_code())
            elif path.endswith("/token"):
                parts = path.strip("/").split("/")
                self._answer(*idp.token(form, parts[1] if parts[0] == "ms" else "common"))
            else:
                self._answer(404, {"error": "not_found"})

        def log_message(self, format: str, *args: Any) -> None:
            pass  # tests read the counters; nothing on stderr

    return Handler


def _error(code: str, description: str) -> tuple[int, dict[str, Any]]:
    return 400, {"error": code, "error_description": description}


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _jwt_claims(assertion: str) -> dict[str, Any]:
    """The payload of a JWT, unchecked (a real provider verifies the signature)."""
    try:
        payload = assertion.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
