"""Write the user config that :meth:`runner.core.config.Settings.from_env` reads as defaults under the environment.

``make setup`` runs ``python -m runner.core.user_config RUNNER_MODELS_DIR=<the store make uses>`` so that
``runner`` outside ``make`` finds the same model store. A key already in the file is kept (the user's
choice wins over make's); a key whose folder does not exist is not written. One line on stderr says
what happened.
"""
from __future__ import annotations

import json
import os
import sys
import tomllib
from pathlib import Path

from runner.core.config import user_config_path

HEADER = ("# tiktok-runner user config: defaults under the environment (a RUNNER_* variable that is set wins).\n"
          "# Read by runner/core/config.py Settings.from_env; written by `make setup` (runner/core/user_config.py).\n")


def set_defaults(path: Path, values: dict[str, str]) -> list[str]:
    """Add ``values`` the file does not have yet; returns one message per key."""
    have = tomllib.loads(path.read_text()) if path.is_file() else {}
    msgs, add = [], {}
    for k, v in values.items():
        if k in have:
            same = str(have[k]) == v
            msgs.append(f"{path}: {k} {'already' if same else 'kept as'} {have[k]}" +
                        ("" if same else f" (make uses {v}; edit the file to change it)"))
        elif k.endswith("_DIR") and not Path(v).is_dir():
            msgs.append(f"{path}: {k} not written: {v} does not exist (runner uses its default)")
        else:
            add[k] = str(Path(v).resolve()) if k.endswith("_DIR") else v
    if add:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = path.read_text() if path.is_file() else HEADER
        if text and not text.endswith("\n"):
            text += "\n"
        text += "".join(f"{k} = {json.dumps(v)}\n" for k, v in add.items())
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
        msgs += [f"{path}: {k} = {v} (runner outside make uses it; a set {k} wins)" for k, v in add.items()]
    return msgs


def main(argv: list[str]) -> int:
    path = user_config_path(os.environ)
    if path is None:
        print("RUNNER_CONFIG is empty: no user config written", file=sys.stderr)
        return 0
    values = dict(a.split("=", 1) for a in argv if "=" in a and a.split("=", 1)[1])
    for m in set_defaults(path, values):
        print(m, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
