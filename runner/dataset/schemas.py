"""The Arrow schema of every dataset table: the source of truth for the files and for docs/dataset.md.

Every table starts with ``video_id`` (the sha256 of the input file) and ``run_id`` (the analysis run
that produced the row). Times are seconds from the start of the video, as float64, in columns whose
name ends in ``_s`` (``t_s`` an instant, ``start_s``/``end_s`` a span: ``end`` is a reserved word in
SQL, so the report's ``start``/``end``/``t`` get the suffix here). Each column
carries one sentence of documentation in its field metadata (``doc``), which the Parquet files keep
and :mod:`runner.dataset.docs` renders.

``SCHEMA_VERSION`` is ``MAJOR.MINOR``: bump MINOR when a column is added (older datasets stay
readable: the missing column reads as NULL), MAJOR when a column is removed, renamed or changes
type (older datasets are refused with the command that re-exports them).
"""
from __future__ import annotations

import pyarrow as pa

SCHEMA_VERSION = "1.0"
FORMAT = "tiktok-runner-dataset"

F64, I32, I64, STR, BOOL = pa.float64(), pa.int32(), pa.int64(), pa.string(), pa.bool_()
TS = pa.timestamp("us", tz="UTC")


def col(name: str, typ: pa.DataType, doc: str, nullable: bool = True) -> pa.Field:
    return pa.field(name, typ, nullable=nullable, metadata={"doc": doc})


def _table(doc: str, *fields: pa.Field) -> pa.Schema:
    head = [col("video_id", STR, "sha256 of the input file: the video's identity; re-exporting it replaces its rows",
                nullable=False),
            col("run_id", STR, "the analysis run (report run.run_id) this row comes from", nullable=False)]
    return pa.schema(head + list(fields), metadata={"doc": doc})


def _box(what: str) -> list[pa.Field]:
    return [col(k, F64, f"{what} box, {side} edge, 0..1 of the frame") for k, side in
            (("x1", "left"), ("y1", "top"), ("x2", "right"), ("y2", "bottom"))]


def _span(what: str) -> list[pa.Field]:
    return [col("start_s", F64, f"when the {what} starts, s"), col("end_s", F64, f"when the {what} ends, s")]


KEYPOINT = pa.struct([("name", STR), ("x", F64), ("y", F64), ("confidence", F64)])
MODEL = pa.struct([("name", STR), ("source", STR), ("sha256", STR)])

TABLES: dict[str, pa.Schema] = {
    "videos": _table(
        "one row per video: the input, its probe, the run and each analyzer's status",
        col("source", STR, "the input as the user named it (a path), or the URL it was downloaded from"),
        col("url", STR, "the URL the video was downloaded from; null for a local file"),
        col("duration_s", F64, "duration from ffprobe, s"),
        col("size_bytes", I64, "size of the input file"),
        col("container", STR, "container format from ffprobe"),
        col("width", I32, "display width in pixels, after rotation"),
        col("height", I32, "display height in pixels, after rotation"),
        col("fps", F64, "video frame rate"),
        col("frame_count", I64, "video frames, when ffprobe reports them"),
        col("video_codec", STR, "video codec"),
        col("bit_rate", I64, "container bit rate, bits/s"),
        col("has_audio", BOOL, "whether the input has an audio stream"),
        col("audio_codec", STR, "audio codec; null without audio"),
        col("status", STR, "ok (every analyzer ok), partial (some not ok) or interrupted"),
        col("analyzers_ok", I32, "analyzers with status ok"),
        col("analyzers_failed", I32, "analyzers that failed, timed out, ran out of memory, crashed or wrote invalid output"),
        col("analyzers_skipped", I32, "analyzers that were skipped"),
        col("statuses", pa.map_(STR, STR), "analyzer -> its status (ok, failed, invalid_output, oom, timeout, crashed, skipped)"),
        col("runner_version", STR, "version of the runner that made the report"),
        col("report_schema_version", STR, "schema version of the report (shared_schema)"),
        col("export_schema_version", STR, "version of these tables' schema when the row was written"),
        col("backend", STR, "where the analyzers ran: docker or local"),
        col("started_at", TS, "when the run started (UTC)"),
        col("finished_at", TS, "when the run finished (UTC)"),
        col("total_s", F64, "wall time of the run, s"),
        col("report_path", STR, "the report file exported; null when a batch appended it before writing one"),
        col("exported_at", TS, "when this row was written (UTC)"),
    ),
    "shots": _table(
        "one row per shot found by cut_analysis (scene from scene_segmentation)",
        col("shot", I32, "0-based shot index in the video"),
        *_span("shot"),
        col("duration_s", F64, "shot length, s"),
        col("start_frame", I32, "first frame of the shot in the dense frame set (every frame up to 30 fps)"),
        col("end_frame", I32, "last frame of the shot in the dense frame set, inclusive"),
        col("scene", I32, "index of the scene holding the shot; null when scene_segmentation gave no result"),
    ),
    "transitions": _table(
        "one row per shot boundary found by cut_analysis",
        col("transition", I32, "0-based index in time order"),
        col("t_s", F64, "when the new shot begins, s"),
        *_span("transition"),
        col("kind", STR, "cut, dissolve or fade"),
        col("frame", I32, "dense frame index of the new shot's first frame"),
        col("confidence", F64, "0..1"),
        col("via", STR, "fades: black or white; dissolves: blend; cuts: content or chroma"),
        col("uncertainty_s", F64, "half-width of the window the boundary lies in around t, s"),
    ),
    "camera": _table(
        "camera motion from camera_analysis: one row per shot (level shot) and per timeline window (level window)",
        col("level", STR, "shot (one row per shot) or window (the motion timeline)"),
        col("index", I32, "shot index (level shot) or window index (level window)"),
        *_span("shot or window"),
        col("label", STR, "dominant motion: static, pan_left/right, tilt_up/down, zoom_in/out, roll_cw/ccw, handheld; null when nothing was tracked"),
        col("labels", pa.list_(STR), "every motion found in the shot, dominant first (level shot)"),
        col("magnitude", F64, "size of the window's motion in its label's unit (level window)"),
        col("pan_speed", F64, "frame widths per second, + right (level shot)"),
        col("tilt_speed", F64, "frame heights per second, + down (level shot)"),
        col("zoom_rate", F64, "log scale per second, + in (level shot)"),
        col("rotation_dps", F64, "roll, degrees per second (level shot)"),
        col("shake", F64, "jitter RMS, % of the frame diagonal (level shot)"),
        col("tracked", F64, "share of frame pairs with a reliable estimate (level shot)"),
    ),
    "text": _table(
        "one row per on-screen text line tracked by text_overlay",
        col("segment", I32, "0-based index of the line in the result, in order of start"),
        col("track", I32, "the tracked line id; null when the result has none"),
        *_span("text's appearance"),
        col("text", STR, "the text read"),
        col("tokens", pa.list_(STR), "the text's words, lower-case letters and digits only (as words.norm)"),
        col("kind", STR, "overlay (a caption added in editing), scene (text in the picture) or uncertain"),
        col("score", F64, "the analyzer's overlay score, 0..1 (higher: more likely a caption)"),
        col("confidence", F64, "mean OCR confidence of its readings, 0..1"),
        col("frames", I32, "analyzed frames it was read in"),
        *_box("median text"),
        col("vertical", STR, "top, middle or bottom third"),
        col("horizontal", STR, "left, center or right third"),
    ),
    "words": _table(
        "one row per transcribed word (speech_transcription)",
        col("word_index", I32, "0-based index in the transcript"),
        col("segment", I32, "the transcript segment holding the word (segments.segment)"),
        *_span("word"),
        col("word", STR, "the word as transcribed, without surrounding spaces"),
        col("norm", STR, "the word in lower-case letters and digits only, for matching (as text.tokens)"),
        col("probability", F64, "the model's probability of the word, 0..1"),
    ),
    "segments": _table(
        "one row per transcript segment (speech_transcription)",
        col("segment", I32, "0-based segment index"),
        *_span("segment"),
        col("text", STR, "the segment's text"),
        col("avg_logprob", F64, "mean log-probability of its tokens"),
        col("no_speech_prob", F64, "the model's probability that the segment is not speech"),
        col("words", I32, "words in the segment"),
    ),
    "objects": _table(
        "one row per object detected in a sampled frame (object_detection); tracks are track_id over t",
        col("t_s", F64, "time of the frame, s"),
        col("label", STR, "class name, e.g. person, car"),
        col("class_id", I32, "class index in the model"),
        col("track_id", I32, "the track the detection joined; null when untracked"),
        col("confidence", F64, "detection confidence, 0..1"),
        *_box("object"),
    ),
    "persons": _table(
        "one row per person found in a sampled frame (body_pose); tracks are track_id over t",
        col("t_s", F64, "time of the frame, s"),
        col("person", I32, "0-based index of the person in the frame"),
        col("track_id", I32, "the track the person joined; null when untracked"),
        col("confidence", F64, "detection confidence, 0..1"),
        *_box("person"),
        col("raised_hands", STR, "none, left, right or both"),
        col("framing", STR, "how much of the body the frame shows: face, half_body, full_body or unknown"),
        col("keypoints", pa.list_(KEYPOINT), "the 17 COCO keypoints in order: name, x and y (0..1), confidence"),
    ),
    "faces": _table(
        "faces over time: one row per face observation (age_estimation) and per frame's main face (eye_tracking)",
        col("analyzer", STR, "age_estimation or eye_tracking"),
        col("t_s", F64, "time of the frame, s"),
        col("track", I32, "the face track (age_estimation); null for eye_tracking"),
        *_box("face"),
        col("detection_score", F64, "face detector score, 0..1 (age_estimation)"),
        col("age", F64, "estimated age in years (age_estimation)"),
        col("gender", STR, "male or female (age_estimation)"),
        col("gender_confidence", F64, "probability of that gender, 0.5..1 (age_estimation)"),
        col("faces_in_frame", I32, "faces detected in the frame (eye_tracking)"),
        col("landmarks", BOOL, "a face mesh with irises was found on the main face (eye_tracking)"),
        col("looking_at_camera", BOOL, "the main face looks at the camera (eye_tracking)"),
        col("iris_offset", F64, "iris distance from the eye centre, eye half-widths (eye_tracking)"),
        col("yaw", F64, "head turn, degrees (eye_tracking)"),
        col("pitch", F64, "head nod, degrees (eye_tracking)"),
        col("ear", F64, "mean eye aspect ratio (eye_tracking)"),
    ),
    "audio": _table(
        "the audio over time, long format: loudness, speech/music/silence spans, events, beats, pauses",
        col("analyzer", STR, "audio_analysis, audio_environment or speech_flow"),
        col("kind", STR, "loudness, environment, event, beat, onset, silence, speech, pause or filler"),
        col("label", STR, "loudness: rms_dbfs or momentary_lufs; environment: speech, singing, music, silence or noise; "
                          "event: the classifier's label; filler: the word"),
        *_span("span (an instant has start_s = end_s)"),
        col("value", F64, "the measurement in unit (loudness level, event score); null where none"),
        col("unit", STR, "unit of value: dBFS, LUFS, score; null when value is null"),
    ),
    "scores": _table(
        "per-video measures, long format: quality, pacing, hook, speech, audio and the cross-modal findings",
        col("analyzer", STR, "the analyzer that measured it"),
        col("name", STR, "what is measured, e.g. median_shot_s, overall_score, hook_score (listed in docs/dataset.md)"),
        col("value", F64, "the number; null when the analyzer could not measure it or the measure is text"),
        col("text", STR, "a text value (a label, the key moment's signals); null otherwise"),
        col("start_s", F64, "start of the span it is about (the hook window, a key moment, a flow segment), s; null for the whole video"),
        col("end_s", F64, "end of that span, s; null for the whole video"),
    ),
    "analyzer_runs": _table(
        "one row per analyzer per video: status, reason, timing, models, degradation, provenance",
        col("analyzer", STR, "the analyzer's name"),
        col("analyzer_version", STR, "its version (in its image tag)"),
        col("status", STR, "ok, failed, invalid_output, oom, timeout, crashed or skipped"),
        col("skip_reason", STR, "why it was skipped (model_absent, needs_gpu, upstream_failed, no_audio, ...)"),
        col("error_type", STR, "the error's type, when not ok"),
        col("error_message", STR, "the error's message (the reason), when not ok"),
        col("error_fix", STR, "the command that fixes it, where known"),
        col("device", STR, "cpu or cuda:N"),
        col("started_at", TS, "when it started (UTC); null when it never ran"),
        col("duration_s", F64, "wall time, s"),
        col("attempts", I32, "attempts made (retries after OOM included)"),
        col("attempt_statuses", pa.list_(STR), "status of each attempt, in order"),
        col("exit_code", I32, "exit code of the last attempt"),
        col("degraded", BOOL, "ok only in a degraded mode (e.g. a retry with fewer frames)"),
        col("degraded_reasons", pa.list_(STR), "why it is degraded"),
        col("models", pa.list_(MODEL), "the models it used: name, source and sha256"),
        col("cached", BOOL, "its result was reused from the result cache"),
        col("cache_key", STR, "the result cache key, when reused"),
        col("cached_from_run", STR, "the run that executed it, when reused"),
        col("runtime_digest", STR, "the image id or source digest that ran it, where the report records one (null today)"),
        col("dropped_outputs", I32, "output files the runner did not keep (links, over a cap, ...)"),
        col("result_rows", I32, "rows its result gave to the other tables"),
        col("result_error", STR, "why its result could not be read into the tables; null when it was (or there is none)"),
    ),
}

#: the tables every export writes, in this order
TABLE_NAMES = tuple(TABLES)


def schema_for(table: str) -> pa.Schema:
    """The schema of ``table`` with the export schema version in its metadata (as written to files)."""
    s = TABLES[table]
    return s.with_metadata({**(s.metadata or {}), b"table": table.encode(), b"schema_version": SCHEMA_VERSION.encode()})


def doc_of(field: pa.Field) -> str:
    return (field.metadata or {}).get(b"doc", b"").decode()
