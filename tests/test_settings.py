"""Settings from the environment: validation that names the variable, secrets that stay hidden."""

from __future__ import annotations

import pytest

from bot.settings import Settings, SettingsError, async_database_url

KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----\n"


def test_defaults_use_the_embedded_sqlite_store_and_github_com() -> None:
    s = Settings.from_env({})
    assert s.database_url == "sqlite+aiosqlite:///secbot.db"
    assert s.api_url == "https://api.github.com"
    assert s.port == 3000 and not s.dry_run


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///data/secbot.db", "sqlite+aiosqlite:///data/secbot.db"),
        ("sqlite:////var/lib/secbot.db", "sqlite+aiosqlite:////var/lib/secbot.db"),
        ("postgresql://u:p@db:5432/secbot", "postgresql+asyncpg://u:p@db:5432/secbot"),
        ("postgres://u@db/secbot", "postgresql+asyncpg://u@db/secbot"),
        ("postgresql+asyncpg://u@db/secbot", "postgresql+asyncpg://u@db/secbot"),
    ],
)
def test_plain_database_urls_get_the_async_driver(given: str, expected: str) -> None:
    assert async_database_url(given) == expected


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"PORT": "http"}, "PORT"),
        ({"SECBOT_DRY_RUN": "maybe"}, "SECBOT_DRY_RUN"),
        ({"GITHUB_API_URL": "ftp://x"}, "GITHUB_API_URL"),
        ({"GITHUB_PRIVATE_KEY": "not a key"}, "GITHUB_PRIVATE_KEY"),
        ({"GITHUB_PRIVATE_KEY_PATH": "/nonexistent/key.pem"}, "GITHUB_PRIVATE_KEY_PATH"),
        ({"GITHUB_APP_ID": "my app"}, "GITHUB_APP_ID"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"SECBOT_READ_TIMEOUT": "0"}, "SECBOT_READ_TIMEOUT"),
        ({"SECBOT_READ_TIMEOUT": "soon"}, "SECBOT_READ_TIMEOUT"),
        ({"SECBOT_BUFFER_MB": "10"}, "SECBOT_BUFFER_MB"),  # could not hold one of GitHub's largest deliveries
        ({"SECBOT_METRICS_PORT": "public"}, "SECBOT_METRICS_PORT"),
        ({"SECBOT_METRICS_PORT": "70000"}, "SECBOT_METRICS_PORT"),
    ],
)
def test_bad_values_are_refused_naming_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env(env)


def test_serve_refuses_to_start_without_a_webhook_secret() -> None:
    s = Settings.from_env({"GITHUB_APP_ID": "1", "GITHUB_PRIVATE_KEY": KEY})
    with pytest.raises(SettingsError, match="GITHUB_WEBHOOK_SECRET"):
        s.check_serve()


def test_secrets_never_appear_in_the_repr() -> None:
    s = Settings.from_env(
        {
            "GITHUB_WEBHOOK_SECRET": "hunter2-webhook",
            "GITHUB_APP_ID": "12",
            "GITHUB_PRIVATE_KEY": KEY.replace("\n", "\\n"),
            "DATABASE_URL": "postgresql://bot:db-password@db/secbot",
        }
    )
    text = repr(s) + str(s)
    assert "hunter2-webhook" not in text and "MIIBOgIBAAJBAKj34" not in text and "db-password" not in text
    assert s.private_key is not None and s.private_key.get().startswith("-----BEGIN")  # \n sequences restored
    assert "bot:***@db" in text


def test_private_key_from_a_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "app.pem"
    path.write_text(KEY)
    s = Settings.from_env({"GITHUB_PRIVATE_KEY_PATH": str(path)})
    assert s.private_key is not None and "PRIVATE KEY" in s.private_key.get()


def test_flags_and_overrides() -> None:
    s = Settings.from_env({"SECBOT_DRY_RUN": "1", "PORT": "8080"}, port=9000, host="127.0.0.1")
    assert s.dry_run and s.port == 9000 and s.host == "127.0.0.1"


def test_intake_limits_and_the_metrics_listener_default_to_safe_values() -> None:
    s = Settings.from_env({})
    assert s.read_timeout == 10.0  # GitHub gives up on a delivery after 10 s
    assert s.max_buffered_bytes == 64 * 1024 * 1024 >= s.max_body_bytes
    assert (s.metrics_host, s.metrics_port) == ("127.0.0.1", 3001)  # loopback, not the webhook port
    s = Settings.from_env({"SECBOT_READ_TIMEOUT": "2.5", "SECBOT_BUFFER_MB": "100", "SECBOT_METRICS_HOST": "0.0.0.0",
                           "SECBOT_METRICS_PORT": "9102"})
    assert (s.read_timeout, s.max_buffered_bytes, s.metrics_host, s.metrics_port) == (
        2.5, 100 * 1024 * 1024, "0.0.0.0", 9102)
    assert Settings.from_env({"SECBOT_METRICS_PORT": "off"}).metrics_port is None
    assert Settings.from_env({"SECBOT_METRICS_PORT": "OFF"}).metrics_port is None
