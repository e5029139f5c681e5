"""The user config: env var over user config over built-in default; ``make setup``'s writer."""
from __future__ import annotations

from pathlib import Path

import pytest

from runner.core.config import Settings, read_user_config, user_config_path
from runner.core.errors import UsageError
from runner.core.user_config import set_defaults


def test_precedence_env_over_config_over_default(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text('RUNNER_MODELS_DIR = "/srv/models"\nRUNNER_SAMPLE_FPS = 3\nRUNNER_BACKEND = "local"\n')
    default = Settings.from_env({"RUNNER_CONFIG": ""})
    assert default.models_dir == Settings().models_dir and default.backend == "auto"
    from_file = Settings.from_env({"RUNNER_CONFIG": str(cfg)})
    assert from_file.models_dir == Path("/srv/models") and from_file.sample_fps == 3.0 and from_file.backend == "local"
    env = Settings.from_env({"RUNNER_CONFIG": str(cfg), "RUNNER_MODELS_DIR": str(tmp_path / "m"), "RUNNER_BACKEND": ""})
    assert env.models_dir == (tmp_path / "m").resolve()
    assert env.backend == "local"  # an empty variable is unset: the file's value stands


def test_default_location_is_xdg(tmp_path):
    assert user_config_path({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "tiktok-runner/config.toml"
    assert user_config_path({"HOME": str(tmp_path)}) == tmp_path / ".config/tiktok-runner/config.toml"
    (tmp_path / "tiktok-runner").mkdir()
    (tmp_path / "tiktok-runner/config.toml").write_text('RUNNER_CACHE_DIR = "c"\n')
    s = Settings.from_env({"XDG_CONFIG_HOME": str(tmp_path)})
    assert s.cache_dir == (tmp_path / "tiktok-runner/c").resolve()  # relative to the file's folder


def test_bad_config_is_a_usage_error(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text("RUNNER_MODELS_DIR = \n")
    with pytest.raises(UsageError, match="cannot read the user config"):
        Settings.from_env({"RUNNER_CONFIG": str(cfg)})
    assert read_user_config(tmp_path / "absent.toml") == {}


def test_setup_writes_once_and_keeps_the_users_choice(tmp_path):
    cfg = tmp_path / "cfg/config.toml"
    store = tmp_path / "store"
    store.mkdir()
    msgs = set_defaults(cfg, {"RUNNER_MODELS_DIR": str(store)})
    assert "runner outside make uses it" in msgs[0]
    assert Settings.from_env({"RUNNER_CONFIG": str(cfg)}).models_dir == store.resolve()
    other = tmp_path / "other"
    other.mkdir()
    msgs = set_defaults(cfg, {"RUNNER_MODELS_DIR": str(other)})
    assert "kept as" in msgs[0]
    assert Settings.from_env({"RUNNER_CONFIG": str(cfg)}).models_dir == store.resolve()
    assert "does not exist" in set_defaults(tmp_path / "c2.toml", {"RUNNER_MODELS_DIR": str(tmp_path / "nope")})[0]
    assert not (tmp_path / "c2.toml").exists()
