"""Rows from the picture analyzers: shots, transitions, camera, objects, persons, faces and their scores.

Each mapper takes one analyzer's result (a dict from the report), every ok result of the video (for
the few that join two: a shot's scene) and the :class:`Rows` to fill. Field names are those of the
result models in ``shared_schema.results``; values are read through :mod:`runner.dataset.values`.
"""
from __future__ import annotations

from runner.dataset.values import Rows, b, box, f, i, lst, obj, s, strs

Results = dict[str, dict]


def cut_analysis(res: dict, results: Results, out: Rows) -> None:
    scene_of: dict[int, int] = {}
    for sc in lst(obj(results.get("scene_segmentation")).get("scenes")):
        for shot in lst(obj(sc).get("shots")):
            if i(shot) is not None and i(obj(sc).get("index")) is not None:
                scene_of[i(shot)] = i(obj(sc).get("index"))
    for sh in out.items(res.get("shots")):
        idx = i(sh.get("index"))
        out.add("shots", shot=idx, start_s=f(sh.get("start")), end_s=f(sh.get("end")), duration_s=f(sh.get("duration")),
                start_frame=i(sh.get("start_frame")), end_frame=i(sh.get("end_frame")), scene=scene_of.get(idx))
    for k, tr in enumerate(out.items(res.get("transitions"))):
        out.add("transitions", transition=k, t_s=f(tr.get("t")), start_s=f(tr.get("start")), end_s=f(tr.get("end")),
                kind=s(tr.get("kind")), frame=i(tr.get("frame")), confidence=f(tr.get("confidence")),
                via=s(tr.get("via")), uncertainty_s=f(tr.get("uncertainty_s")))
    for name in ("cut_count", "hard_cuts", "gradual", "cuts_per_minute", "mean_shot_s", "median_shot_s"):
        out.score("cut_analysis", name, res.get(name))
    out.score("cut_analysis", "shot_count", len(lst(res.get("shots"))))


def scene_segmentation(res: dict, results: Results, out: Rows) -> None:
    out.score("scene_segmentation", "scene_count", len(lst(res.get("scenes"))))


_STATS = ("pan_speed", "tilt_speed", "zoom_rate", "rotation_dps", "shake", "tracked")


def camera_analysis(res: dict, results: Results, out: Rows) -> None:
    for sh in out.items(res.get("shots")):
        stats = obj(sh.get("stats"))
        out.add("camera", level="shot", index=i(sh.get("shot")), start_s=f(sh.get("start")), end_s=f(sh.get("end")),
                label=s(sh.get("label")), labels=strs(sh.get("labels")), **{k: f(stats.get(k)) for k in _STATS})
    for k, seg in enumerate(out.items(res.get("timeline"))):
        out.add("camera", level="window", index=k, start_s=f(seg.get("start")), end_s=f(seg.get("end")),
                label=s(seg.get("label")), magnitude=f(seg.get("magnitude")))
    out.score("camera_analysis", "overall_motion", text=res.get("overall"))


def object_detection(res: dict, results: Results, out: Rows) -> None:
    for fr in out.items(res.get("frames")):
        for d in out.items(fr.get("detections")):
            out.add("objects", t_s=f(fr.get("t")), label=s(d.get("label")), class_id=i(d.get("class_id")),
                    track_id=i(d.get("track_id")), confidence=f(d.get("confidence")), **box(d.get("box")))
    out.score("object_detection", "max_persons", res.get("max_persons"))
    out.score("object_detection", "object_tracks", len(lst(res.get("tracks"))))


def body_pose(res: dict, results: Results, out: Rows) -> None:
    for fr in out.items(res.get("frames")):
        for k, p in enumerate(out.items(fr.get("persons"))):
            kps = [{"name": s(kp.get("name")), "x": f(kp.get("x")), "y": f(kp.get("y")),
                    "confidence": f(kp.get("confidence"))} for kp in out.items(p.get("keypoints"))]
            out.add("persons", t_s=f(fr.get("t")), person=k, track_id=i(p.get("track_id")),
                    confidence=f(p.get("confidence")), raised_hands=s(p.get("raised_hands")),
                    framing=s(p.get("framing")), keypoints=kps, **box(p.get("box")))
    out.score("body_pose", "max_persons", res.get("max_persons"))
    out.score("body_pose", "mean_movement_energy", res.get("mean_movement_energy"))
    for framing, share in obj(res.get("framing_share")).items():
        out.score("body_pose", f"framing_share_{framing}", share)


def age_estimation(res: dict, results: Results, out: Rows) -> None:
    for tr in out.items(res.get("tracks")):
        for o in out.items(tr.get("observations")):
            out.add("faces", analyzer="age_estimation", t_s=f(o.get("t")), track=i(tr.get("id")),
                    detection_score=f(o.get("detection_score")), age=f(o.get("age")), gender=s(o.get("gender")),
                    gender_confidence=f(o.get("gender_confidence")), **box(o.get("box")))
    out.score("age_estimation", "face_tracks", len(lst(res.get("tracks"))))


def eye_tracking(res: dict, results: Results, out: Rows) -> None:
    for fr in out.items(res.get("frames")):
        out.add("faces", analyzer="eye_tracking", t_s=f(fr.get("t")), faces_in_frame=i(fr.get("faces")),
                landmarks=b(fr.get("landmarks")), looking_at_camera=b(fr.get("looking_at_camera")),
                iris_offset=f(fr.get("iris_offset")), yaw=f(fr.get("yaw")), pitch=f(fr.get("pitch")),
                ear=f(fr.get("ear")))
    out.score("eye_tracking", "eye_contact_ratio", res.get("eye_contact_ratio"))
    out.score("eye_tracking", "blinks", len(lst(res.get("blinks"))))


def content_quality(res: dict, results: Results, out: Rows) -> None:
    out.score("content_quality", "overall_score", res.get("overall_score"))
    for c in out.items(res.get("components")):
        if s(c.get("name")):
            out.score("content_quality", f"quality_{c['name']}", c.get("score"))
    out.score("content_quality", "aspect_label", text=res.get("aspect_label"))
    out.score("content_quality", "vertical_9_16", b(res.get("vertical_9_16")))


def color_analysis(res: dict, results: Results, out: Rows) -> None:
    overall = obj(res.get("overall"))
    for name in ("brightness", "saturation", "contrast", "warmth"):
        out.score("color_analysis", name, overall.get(name))
    palette = lst(res.get("palette"))
    out.score("color_analysis", "dominant_color", text=obj(palette[0]).get("name") if palette else None)
    out.score("color_analysis", "color_changes", len(lst(res.get("changes"))))


def background_segmentation(res: dict, results: Results, out: Rows) -> None:
    out.score("background_segmentation", "mean_foreground_ratio", res.get("mean_foreground_ratio"))
    out.score("background_segmentation", "background_changes", len(lst(res.get("background_changes"))))


def qwen2_vl_temporal(res: dict, results: Results, out: Rows) -> None:
    for w in out.items(res.get("windows")):
        out.score("qwen2_vl_temporal", "description", text=w.get("description"), start=w.get("start"), end=w.get("end"))
    out.score("qwen2_vl_temporal", "summary", text=obj(res.get("summary")).get("text"))


MAPPERS = {
    "cut_analysis": cut_analysis, "scene_segmentation": scene_segmentation, "camera_analysis": camera_analysis,
    "object_detection": object_detection, "body_pose": body_pose, "age_estimation": age_estimation,
    "eye_tracking": eye_tracking, "content_quality": content_quality, "color_analysis": color_analysis,
    "background_segmentation": background_segmentation, "qwen2_vl_temporal": qwen2_vl_temporal,
}
