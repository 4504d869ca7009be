"""The OAuth variant of the dev mail stack: the same Dovecot + Postfix, plus XOAUTH2/OAUTHBEARER.

Dovecot's oauth2 passdb checks tokens at a fake identity provider (`idp.FakeIdP`, in-process)
by RFC 7662 introspection; Postfix authenticates SMTP through Dovecot's auth service, so both
mechanisms run end to end on loopback with the real servers. Password logins keep working
for the other users (customers, agents). `keywords=False` starts Dovecot with an ACL that
withholds the "write flags" right, so PERMANENTFLAGS lacks `\\*` (as on Exchange) and the
service must file without keywords.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from responder.devstack.mailstack import MailStack
from responder.devstack.mailstack._procs import free_ports
from responder.devstack.mailstack.files import _write

from .idp import FakeIdP

__all__ = ["FakeIdP", "OAuthMailStack"]
_HERE = Path(__file__).parent
_PASSWD_PASSDB = "passdb {\n  driver = passwd-file\n"


class OAuthMailStack(MailStack):
    def __init__(self, root: Path, idp: FakeIdP, keywords: bool = True, **kwargs: Any) -> None:
        super().__init__(root, **kwargs)
        self.idp = idp
        self.keywords = keywords
        (self.auth_port,) = free_ports(1)
        self._prepared_for: tuple[int, ...] = ()

    def _prepare(self) -> None:
        # MailStack re-renders its configs before each daemon starts; doing that here would put
        # the plain dovecot.conf back for a moment, and a Dovecot config process starting then
        # would never offer XOAUTH2. So render once per set of ports.
        ports = (self.imap_port, self.imaps_port, self.lmtp_port, self.smtp_port, self.auth_port)
        if ports == self._prepared_for:
            return
        super()._prepare()
        values = {"idp_url": self.idp.url, "auth_port": str(self.auth_port)}
        ext = self._etc / "dovecot-oauth2.conf.ext"
        _write(ext, _render_here("oauth2.conf.ext.in", values), 0o644)
        values["oauth2_args"] = str(ext)
        base = (self._etc / "dovecot.conf").read_text()  # as MailStack just rendered it
        if _PASSWD_PASSDB not in base:
            raise RuntimeError("dovecot.conf.in changed: cannot restrict the passwd-file passdb")
        base = base.replace(_PASSWD_PASSDB, _PASSWD_PASSDB + "  mechanisms = plain login\n")
        extra = _render_here("dovecot-oauth.conf.in", values)
        if not self.keywords:
            acl = self._etc / "dovecot-acl"
            # owner may do everything but "w" (flags other than \Seen and \Deleted, keywords)
            _write(acl, "* owner lrsitekxa\n", 0o644)
            extra += _render_here("dovecot-acl.conf.in", {"acl_file": str(acl)})
        _write(self._etc / "dovecot.conf", base + extra, 0o644)
        main = (self._etc / "postfix" / "main.cf").read_text()
        main += _render_here("main-oauth.cf.in", values)
        _write(self._etc / "postfix" / "main.cf", main, 0o644)
        self._prepared_for = ports


def _render_here(template: str, values: dict[str, str]) -> str:
    text = (_HERE / template).read_text()
    return re.sub(r"\{\{(\w+)\}\}", lambda m: values[m.group(1)], text)
