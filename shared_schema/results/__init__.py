"""Result models, one module per family; analyzers name theirs in ``analyzer.toml``.

:func:`resolve_result_model` imports ``shared_schema.results.<module>:<Model>``;
nothing outside this package can be named, so a manifest can't make the host
import arbitrary code.
"""
from __future__ import annotations

import importlib

from pydantic import BaseModel

from shared_schema.results.common import ResultBase

__all__ = ["ResultBase", "resolve_result_model"]


def resolve_result_model(ref: str) -> type[BaseModel]:
    module_name, _, attr = ref.partition(":")
    if not module_name.startswith("shared_schema.results.") or not attr:
        raise ValueError(f"result model {ref!r} is not inside shared_schema.results")
    module = importlib.import_module(module_name)
    model = getattr(module, attr, None)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise ValueError(f"{ref!r} is not a pydantic model")
    return model
