"""temporal_flow: pacing of the whole video from what the other analyzers found."""
from __future__ import annotations

from analyzers.base import Analyzer as Base
from analyzers.base import Context
from shared_schema.envelope import Status
from shared_schema.results.temporal import InputState, TemporalFlowResult, signals_from

from ._flow import energy_curve, hook, segments
from ._wav_loudness import loudness

UPSTREAM = ("cut_analysis", "camera_analysis", "audio_analysis", "speech_flow")
#: energy component -> the upstream analyzer whose series feeds it
SOURCE = {"cuts": "cut_analysis", "motion": "camera_analysis", "audio": "audio_analysis", "speech": "speech_flow"}


def gather(ctx: Context, names) -> tuple[dict, list[str], list[InputState]]:
    """Validated results of the upstream analyzers that were ok; the others with their status."""
    results, used, missing = {}, [], []
    for name in names:
        if name not in ctx.job.upstream:
            missing.append(InputState(name=name, status="not_selected"))
            continue
        env = ctx.upstream(name)
        if env is None:
            missing.append(InputState(name=name, status="no_envelope", reason="it wrote no result"))
        elif env.status is not Status.ok or env.result is None:
            reason = env.error.message if env.error else None
            if env.skip_reason is not None:
                reason = f"{env.skip_reason.value}: {reason}" if reason else env.skip_reason.value
            missing.append(InputState(name=name, status=env.status.value, reason=reason))
        else:
            results[name] = ctx.upstream_result(name)
            used.append(name)
    return results, used, missing


def _absent_components(weights: dict, results: dict, missing: list[InputState], has_audio: bool) -> dict[str, str]:
    """``energy[].<component>`` -> why that component is null in every bin (its series is absent)."""
    out = {}
    for k, name in SOURCE.items():
        if k in weights:
            continue
        if name in results:  # ok, but it supplies no series
            why = f"{name} gave no {k} series"
            if name == "camera_analysis":
                overall = results[name].not_measured.get("overall")
                why = ("camera_analysis could track nothing: no window of its timeline has a motion label"
                       + (f" ({overall})" if overall else ""))
        else:
            state = next((m for m in missing if m.name == name), None)
            why = f"{name} gave no result" if state is None else f"{name} was {state.status}" + (
                f" ({state.reason})" if state.reason else "")
            if k == "audio" and not has_audio:
                why += ", and the video has no audio stream to measure loudness from"
        out[f"energy[].{k}"] = f"null in every bin: {why}; left out of the energy (weight 0), not counted as 0"
    return out


class Analyzer(Base):
    def analyze(self, ctx: Context) -> TemporalFlowResult:
        p = ctx.params
        results, used, missing = gather(ctx, UPSTREAM)
        duration = ctx.media.duration_s
        sig = signals_from(results, duration)
        audio_source = "audio_analysis" if sig.audio_energy is not None else "none"
        if sig.audio_energy is None and ctx.job.audio is not None:
            # measured here from the extracted track: a real loudness curve, named as such
            sig = sig.model_copy(update={"audio_energy": loudness(ctx.audio_path),
                                         "sources": {**sig.sources, "audio_energy": "wav_rms"}})
            audio_source = "wav_rms"
        for m in missing:
            if m.status != "not_selected":  # selected but not ok: the result is partial, say so
                extra = "; loudness measured from the WAV instead" if m.name == "audio_analysis" \
                    and audio_source == "wav_rms" else ""
                ctx.degrade(f"{m.name} was {m.status}: its signals are left out{extra}")
        points, weights = energy_curve(sig, p)
        segs, peak_t = segments(points, duration, p)
        not_measured = {}
        if not weights:
            why = ("no input: none of cut_analysis, camera_analysis, audio_analysis, speech_flow gave a result"
                   + (" and the video has no audio stream" if ctx.job.audio is None else ""))
            not_measured = {k: why for k in ("energy", "segments", "peak_t", "hook.intensity")}
        elif all(q.energy is None for q in points):
            why = f"inputs {sorted(weights)} gave series that cover none of the {p.bin_s:g} s bins"
            not_measured = {k: why for k in ("energy", "segments", "peak_t", "hook.intensity")}
        else:
            gaps = [f"{q.start:g}-{q.end:g} s" for q in points if q.energy is None]
            if gaps:
                not_measured["energy"] = "null in bins no input covers: " + ", ".join(gaps[:20]) + (
                    f" (+{len(gaps) - 20} more)" if len(gaps) > 20 else "")
            part = {k: sum(1 for q in points if getattr(q, k) is None) for k in weights}
            for k, n in part.items():
                if n:
                    not_measured[f"energy[].{k}"] = (f"null in {n} of {len(points)} bins: the {k} series "
                                                     "does not cover them (left out of those bins' energy, "
                                                     "not counted as 0)")
            unlabelled = [f"{q.start:g}-{q.end:g} s" for q in segs if q.label is None]
            if unlabelled:
                not_measured["segments[].label"] = ("null over bins no input covers (no label is read into "
                                                    "them from the bins around): " + ", ".join(unlabelled[:20]))
            if hook(sig, points, p).intensity is None:
                not_measured["hook.intensity"] = "no input covers the hook window"
        not_measured.update(_absent_components(weights, results, missing, ctx.job.audio is not None))
        if sig.cuts is None:
            not_measured["hook.cuts"] = "cut_analysis gave no result"
        return TemporalFlowResult(not_measured=not_measured, method="weighted_energy_bins", duration=duration, bin_s=p.bin_s,
                                  weights=weights, hook=hook(sig, points, p), energy=points,
                                  segments=segs, peak_t=peak_t, inputs_used=used,
                                  inputs_missing=missing, audio_source=audio_source)
