"""Configuration: defaults, file, environment; every mistake is one line naming the key."""

from pathlib import Path

import pytest

from responder import config
from responder.cli import main
from responder.errors import ConfigError


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "responder.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_load_without_a_file() -> None:
    loaded = config.load(None, environ={})
    assert loaded.mailbox.address == "support@example.test"
    assert loaded.reply.default_language == "en"


def test_environment_overrides_file(tmp_path: Path) -> None:
    path = _write(tmp_path, '[imap]\nhost = "127.0.0.1"\nport = 993\nsecurity = "tls"\n')
    loaded = config.load(
        path,
        environ={
            "RESPONDER_IMAP_PORT": "1143",
            "RESPONDER_IMAP_SECURITY": "plain",
            "RESPONDER_IMAP_PASSWORD": "s3cret",
            "RESPONDER_SMTP_USERNAME": "",
        },
    )
    assert (loaded.imap.port, loaded.imap.security, loaded.imap.password) == (
        1143,
        "plain",
        "s3cret",
    )
    assert loaded.smtp.username == ""


def test_relative_paths_resolve_against_the_config_file(tmp_path: Path) -> None:
    path = _write(tmp_path, '[reply]\ntemplates = "my-templates"\n')
    assert config.load(path, environ={}).reply.templates == str(tmp_path / "my-templates")


@pytest.mark.parametrize(
    ("text", "environ", "key"),
    [
        ('[imap]\npassword = "x"\n', {}, "imap.password"),
        ('[imap]\nport = "x"\n', {}, "imap.port"),
        ("", {"RESPONDER_IMAP_PORT": "abc"}, "RESPONDER_IMAP_PORT"),
        ("", {"RESPONDER_SMTP_SECURITY": "ssl"}, "smtp.security"),
        ('[imap]\nhost = "mail.example.com"\nsecurity = "plain"\n', {}, "imap.security"),
        ("[imapp]\n", {}, "imapp"),
        ("[imap]\nhots = 1\n", {}, "imap.hots"),
        ('[reply]\nresponse_time = { billing = "soon" }\n', {}, "reply.response_time.billing"),
        ('[reply]\ndefault_language = "xx"\n', {}, "reply.default_language"),
        ('[reply]\nlanguages = ["en", "xx"]\n', {}, "reply.languages"),
        ('[service]\nidle = "maybe"\n', {}, "service.idle"),
        ("[service]\nidle_renew = 3600\n", {}, "service.idle_renew"),
    ],
)
def test_a_wrong_setting_names_its_key(
    tmp_path: Path, text: str, environ: dict[str, str], key: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        config.load(_write(tmp_path, text), environ=environ)
    assert caught.value.key == key


def test_cli_reports_a_bad_config_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "[imap\n")
    assert main(["--config", str(path), "inspect", __file__]) == 2
    err = capsys.readouterr().err
    assert err.startswith("responder: ") and "not valid TOML" in err
    assert len(err.strip().splitlines()) == 1


def test_dotenv_supplies_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    # set-then-delete makes monkeypatch remove what load_dotenv() puts into os.environ
    monkeypatch.setenv("RESPONDER_SMTP_PASSWORD", "placeholder")
    monkeypatch.delenv("RESPONDER_SMTP_PASSWORD")
    (tmp_path / ".env").write_text("RESPONDER_SMTP_PASSWORD=from-dotenv\n", encoding="utf-8")
    assert config.load(None).smtp.password == "from-dotenv"


def test_state_dir_precedence(tmp_path: Path) -> None:
    def state(environ: dict[str, str], text: str = "") -> Path:
        return config.load(_write(tmp_path, text), environ=environ).state_dir()

    assert state({}) == Path("var")
    assert state({"STATE_DIRECTORY": "/var/lib/responder"}) == Path("/var/lib/responder")
    assert state({"STATE_DIRECTORY": "/x"}, '[service]\nstate_dir = "/etc-set"\n') == Path(
        "/etc-set"
    )
    both = {"STATE_DIRECTORY": "/var/lib/responder", "RESPONDER_STATE_DIR": "/srv/state"}
    assert state(both, '[service]\nstate_dir = "/etc-set"\n') == Path("/srv/state")


def test_example_config_documents_every_key_and_loads() -> None:
    import dataclasses
    import tomllib

    example = config.PROJECT_ROOT / "config" / "responder.example.toml"
    data = tomllib.loads(example.read_text(encoding="utf-8"))
    for section in dataclasses.fields(config.Config):
        if section.name == "source":
            continue
        documented = set(data.get(section.name, {}))
        expected = {f.name for f in dataclasses.fields(getattr(config.Config(), section.name))}
        expected -= set(config.SECRET_KEYS)
        assert documented == expected, section.name
    assert config.load(example, environ={}).source == str(example)
