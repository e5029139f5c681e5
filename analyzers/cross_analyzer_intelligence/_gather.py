"""Turn upstream envelopes into CrossInputs: validated results for the ok ones, a status for the rest.

Pure: the caller passes the envelopes and a function that validates one
result through its shared_schema model, so tests can feed any mix of statuses.
"""
from __future__ import annotations

from typing import Callable

from pydantic import BaseModel, ValidationError

from shared_schema.envelope import Envelope, Status
from shared_schema.results.cross import CrossInputs
from shared_schema.results.temporal import READERS, InputState, signals_from


def _reason(env: Envelope) -> str | None:
    msg = env.error.message if env.error else None
    if env.skip_reason is not None:
        return f"{env.skip_reason.value}: {msg}" if msg else env.skip_reason.value
    return msg


def gather(envelopes: dict[str, Envelope | None], validate: Callable[[str], BaseModel],
           duration: float) -> CrossInputs:
    """``envelopes``: upstream name -> its envelope (None: it wrote none, e.g. it was killed).

    The inputs are the analyzers ``READERS`` knows; other upstream analyzers are listed as ignored.
    """
    results: dict[str, BaseModel] = {}
    used: list[str] = []
    missing: list[InputState] = []
    for name in READERS:
        env = envelopes.get(name)
        if name not in envelopes:
            missing.append(InputState(name=name, status="not_selected"))
        elif env is None:
            missing.append(InputState(name=name, status="no_envelope",
                                      reason="no result.json: killed (oom/timeout), crashed, or skipped by the runner"))
        elif env.status is not Status.ok or env.result is None:
            missing.append(InputState(name=name, status=env.status.value, reason=_reason(env)))
        else:
            try:
                res = validate(name)
                signals_from({name: res}, duration)  # readable on its own, so it cannot sink the others
            except (ValidationError, ValueError) as exc:
                missing.append(InputState(name=name, status="invalid_result", reason=str(exc)[:300]))
            else:
                results[name] = res
                used.append(name)
    ignored = sorted(n for n in envelopes if n not in READERS)
    return CrossInputs(signals=signals_from(results, duration), used=used, missing=missing, ignored=ignored)
