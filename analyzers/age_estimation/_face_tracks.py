"""Link per-frame face observations into tracks by box overlap over time."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from statistics import median

from analyzers.common.boxes import greedy_match, iou
from analyzers.common.face_detect import FaceBox
from shared_schema.results.common import Box
from shared_schema.results.faces import FaceObservation, FaceTrack


@dataclass
class _Open:
    last_box: FaceBox
    last_t: float
    observations: list[FaceObservation] = field(default_factory=list)


def link(frames: list[tuple[float, list[tuple[FaceBox, FaceObservation]]]],
         min_iou: float = 0.3, max_gap_s: float = 2.5) -> list[FaceTrack]:
    """Greedy IoU matching, best pairs first; a track ends after ``max_gap_s`` unseen."""
    open_tracks: list[_Open] = []
    closed: list[_Open] = []
    for t, faces in frames:
        still_open = []
        for tr in open_tracks:
            (still_open if t - tr.last_t <= max_gap_s else closed).append(tr)
        open_tracks = still_open
        overlaps = [[iou(tr.last_box.xyxy, box.xyxy) for box, _ in faces] for tr in open_tracks]
        used_faces: set[int] = set()
        for i, j in greedy_match(overlaps, min_iou):
            used_faces.add(j)
            box, obs = faces[j]
            open_tracks[i].last_box, open_tracks[i].last_t = box, t
            open_tracks[i].observations.append(obs)
        for j, (box, obs) in enumerate(faces):
            if j not in used_faces:
                open_tracks.append(_Open(last_box=box, last_t=t, observations=[obs]))
    tracks = sorted(closed + open_tracks, key=lambda tr: (tr.observations[0].t, tr.observations[0].box.x1))
    return [summarize(i, tr.observations) for i, tr in enumerate(tracks)]


def summarize(track_id: int, observations: list[FaceObservation]) -> FaceTrack:
    ages = [o.age for o in observations]
    votes = Counter(o.gender for o in observations)
    gender, count = votes.most_common(1)[0]
    return FaceTrack(id=track_id, start=observations[0].t, end=observations[-1].t,
                     age=round(median(ages), 1), age_low=min(ages), age_high=max(ages),
                     gender=gender, gender_share=round(count / len(observations), 3),
                     observations=observations)


def observation(t: float, box: FaceBox, width: int, height: int, age: float, gender: str,
                gender_confidence: float) -> FaceObservation:
    x1, y1, x2, y2 = box.normalized(width, height)
    return FaceObservation(t=t, box=Box(x1=x1, y1=y1, x2=x2, y2=y2),
                           detection_score=round(min(max(box.score, 0.0), 1.0), 4),
                           age=round(min(max(age, 0.0), 100.0), 1), gender=gender,
                           gender_confidence=round(min(max(gender_confidence, 0.5), 1.0), 4))
