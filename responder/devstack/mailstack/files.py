"""The files a private stack runs from: directories, a self-signed certificate, users, configs.

Everything is generated from the `*.in` templates beside this file; nothing in /etc is touched.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import re
import subprocess
import time
from pathlib import Path

_TEMPLATES = Path(__file__).parent


def _binary(name: str) -> str:
    from . import _binary as find

    return find(name)


class ConfigFiles:
    """Writes a `MailStack`'s state tree; the stack supplies its paths, ports and users."""

    state_dir: Path
    cafile: Path
    users: tuple[str, ...]
    password: str
    domain: str
    imap_port: int
    imaps_port: int
    lmtp_port: int
    smtp_port: int
    _etc: Path
    _log_dir: Path
    _base_dir: Path
    _queue_dir: Path

    def _prepare(self) -> None:
        """Create the directory tree, cert, users file and configs (idempotent, cheap)."""
        mail = pwd.getpwnam("mail")
        postfix = pwd.getpwnam("postfix")
        s = self.state_dir
        for sub in ("etc/postfix", "tls", "run/dovecot", "state/dovecot", "log", "postfix/queue"):
            (s / sub).mkdir(parents=True, exist_ok=True)
        for public in (s, s / "etc", s / "run", s / "state", s / "log", s / "postfix"):
            public.chmod(0o755)  # searchable by the mail, dovecot and postfix users
        self._queue_dir.chmod(0o755)
        (s / "mail").mkdir(exist_ok=True)
        os.chown(s / "mail", mail.pw_uid, mail.pw_gid)
        (s / "mail").chmod(0o750)
        (s / "postfix" / "data").mkdir(exist_ok=True)
        os.chown(s / "postfix" / "data", postfix.pw_uid, postfix.pw_gid)
        for name in ("dovecot.log", "postfix.log", "start.log"):
            (self._log_dir / name).touch()
        if not self.cafile.exists():
            self._make_cert()
        users = "".join(f"{u}:{{PLAIN}}{self.password}::::::\n" for u in self.users)
        _write(self._etc / "users", users, 0o644)  # read by Dovecot's auth process (user dovecot)
        values = {
            "base_dir": str(self._base_dir),
            "instance_name": "mailstack-" + hashlib.sha1(bytes(s)).hexdigest()[:10],
            "state_dir": str(s / "state" / "dovecot"),
            "log_dir": str(self._log_dir),
            "users_file": str(self._etc / "users"),
            "mail_dir": str(s / "mail"),
            "tls_dir": str(s / "tls"),
            "queue_dir": str(self._queue_dir),
            "data_dir": str(s / "postfix" / "data"),
            "domain": self.domain,
            "imap_port": str(self.imap_port),
            "imaps_port": str(self.imaps_port),
            "lmtp_port": str(self.lmtp_port),
            "smtp_port": str(self.smtp_port),
        }
        _write(self._etc / "dovecot.conf", _render("dovecot.conf.in", values), 0o644)
        _write(self._etc / "postfix" / "main.cf", _render("main.cf.in", values), 0o644)
        _write(self._etc / "postfix" / "master.cf", _render("master.cf.in", values), 0o644)

    def _make_cert(self) -> None:
        """A self-signed EC cert (fast to make) that clients can verify for 127.0.0.1/localhost."""
        tls = self.cafile.parent
        subprocess.run(
            [_binary("openssl"), "req", "-x509", "-newkey", "ec",
             "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "3650",
             "-subj", "/CN=localhost",
             "-addext", f"subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:mail.{self.domain}",
             "-keyout", str(tls / "key.pem"), "-out", str(tls / "cert.tmp")],
            check=True, capture_output=True,
        )  # fmt: skip
        (tls / "key.pem").chmod(0o600)
        (tls / "cert.tmp").chmod(0o644)
        (tls / "cert.tmp").replace(self.cafile)


def _render(template: str, values: dict[str, str]) -> str:
    """Fill `{{name}}` placeholders ($ and @ are taken by Postfix and Dovecot syntax)."""
    text = (_TEMPLATES / template).read_text()

    def sub(match: re.Match[str]) -> str:
        return values[match.group(1)]  # KeyError on a typo in a template: fail loudly

    return re.sub(r"\{\{(\w+)\}\}", sub, text)


def _write(path: Path, text: str, mode: int) -> None:
    """Atomically write `text` unless it is already there, with an mtime in the past.

    Why the mtime: Postfix re-reads main.cf in 300 ms steps until the file is at least a second
    old (guarding against half-edited files), which made every start ~2 s slower."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except OSError:
        pass
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.chmod(mode)
    past = time.time() - 10
    os.utime(tmp, (past, past))
    tmp.replace(path)
