"""Settings are read once (issue 29): :func:`runner.core.config.environment` reads the environment over the
user config file, and the downloader and the HTTP API get their sections of the one ``Settings``.
A download or API setting written only in the user config file used to be ignored: the downloader
and the API read ``os.environ`` themselves."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.core.config import Settings

URL = "https://www.tiktok.com/@someone/video/7301234567890123456?lang=en"
#: set here only through the user config file: none may come from the test's environment
_VARS = ("RUNNER_DOWNLOAD_CACHE", "RUNNER_DOWNLOAD_ATTEMPTS", "RUNNER_URL_ALLOWLIST", "RUNNER_API_MAX_BODY",
         "RUNNER_API_DATA_DIR", "RUNNER_API_TOKEN")


@pytest.fixture
def user_config(tmp_path, monkeypatch):
    """A user config file (``RUNNER_CONFIG``) holding download and API settings, none in the environment."""
    for var in _VARS:
        monkeypatch.delenv(var, raising=False)
    cfg = tmp_path / "config.toml"
    cfg.write_text('RUNNER_DOWNLOAD_CACHE = "downloads"\n'     # relative: to the file's folder
                   'RUNNER_DOWNLOAD_ATTEMPTS = 7\n'
                   'RUNNER_URL_ALLOWLIST = "videos.example"\n'
                   'RUNNER_API_MAX_BODY = 4096\n'
                   'RUNNER_API_DATA_DIR = "api"\n')
    monkeypatch.setenv("RUNNER_CONFIG", str(cfg))
    return cfg


def test_the_sections_come_from_the_user_config(user_config, tmp_path):
    s = Settings.from_env()
    assert s.download.download_cache == (tmp_path / "downloads").resolve() and s.download.download_attempts == 7
    assert s.api.url_allowlist == ("videos.example",) and s.api.max_body == 4096
    assert s.api.data_dir == (tmp_path / "api").resolve()
    env = Settings.from_env({"RUNNER_CONFIG": str(user_config), "RUNNER_DOWNLOAD_ATTEMPTS": "3"})
    assert env.download.download_attempts == 3  # a variable that is set wins over the file


def test_a_download_setting_in_the_user_config_reaches_the_downloader(user_config, tmp_path):
    """A run's URL step downloads into the user config's cache: a video already there is a cache
    hit, with no request (the old downloader looked in the default cache and went to the network)."""
    from runner.placement import place
    from runner.run.pipeline import AnalyzeRequest, _fetch_if_url

    cached = tmp_path / "downloads" / "tiktok-7301234567890123456.mp4"
    cached.parent.mkdir()
    cached.write_bytes(b"\x00" * 10)
    notes: list[str] = []
    settings = Settings.from_env()
    got, url = _fetch_if_url(AnalyzeRequest(source=URL, backend="local"), settings, place(settings, "local"),
                             notes.append)
    assert Path(got) == cached and url == URL
    assert any("cache hit" in n for n in notes), notes


def test_an_api_setting_in_the_user_config_reaches_the_api(user_config, tmp_path, monkeypatch):
    """``runner serve`` builds its app with the user config's API section, and ``runner worker
    --health`` looks in the user config's data folder."""
    import uvicorn

    import runner.api.app
    from runner.commands.main import cli

    seen = {}
    monkeypatch.setattr(runner.api.app, "create_app", lambda settings, api, **kw: seen.update(api=api) or "app")
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app))
    result = CliRunner().invoke(cli, ["serve", "--role", "api"])
    assert result.exit_code == 0, result.output
    api = seen["api"]
    assert seen["app"] == "app" and api.url_allowlist == ("videos.example",) and api.max_body == 4096
    assert api.data_dir == (tmp_path / "api").resolve()
    health = CliRunner().invoke(cli, ["worker", "--health"])
    assert health.exit_code == 1 and str((tmp_path / "api").resolve() / "jobs.sqlite3") in health.output
