"""The OCR engine options of issue 24, measured on the same frames: CPU seconds of each stage.

Run in the environment of the engine (tests/bench_text.py runs both on the sampled frames of its run):

    .venvs/torch/bin/python -m tests.text_engines easyocr FRAMES_DIR   # EasyOCR CRAFT + CRNN (text_overlay 2.x)
    .venvs/cpu/bin/python -m tests.text_engines ppocr FRAMES_DIR       # PP-OCRv4 DB + CTC on ONNX Runtime (3.x)

FRAMES_DIR is a frame set of a workdir (``frames/sampled``). One thread, as the analyzer runs. Prints one
JSON line: import and load seconds, the detector's CPU per frame on the whole frame (and, for PP-OCR, on
the caption zones only: the top quarter and the bottom 40%), the recognizer's CPU per line read, and the
lines found. Figures are CPU seconds (time.process_time), steady on a shared machine.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def _frames(folder: Path) -> list:
    import cv2

    index = json.loads((folder / "index.json").read_text())
    return [cv2.imread(str(folder / f["file"])) for f in index["frames"]]


def _easyocr(frames: list) -> dict:
    t0 = time.process_time()
    import easyocr
    import easyocr_en_models
    import torch

    torch.set_num_threads(1)
    t_import = time.process_time() - t0
    t0 = time.process_time()
    reader = easyocr.Reader(["en"], gpu=False, model_storage_directory=str(easyocr_en_models.model_dir()),
                            download_enabled=False, verbose=False)
    t_load = time.process_time() - t0
    det, rec, lines = [], [], 0
    for img in frames:
        t0 = time.process_time()
        horizontal, _ = reader.detect(img, min_size=20, width_ths=1.0)
        det.append(time.process_time() - t0)
        for b in horizontal[0]:
            t0 = time.process_time()
            reader.recognize(img, horizontal_list=[b], free_list=[], detail=1, paragraph=False)
            rec.append(time.process_time() - t0)
            lines += 1
    return {"engine": "easyocr 1.7.2 (CRAFT + CRNN, torch)", "import_s": t_import, "load_s": t_load,
            "det_per_frame_s": sum(det) / len(det), "rec_per_line_s": sum(rec) / max(1, len(rec)),
            "frames": len(frames), "lines": lines}


def _ppocr(frames: list) -> dict:
    t0 = time.process_time()
    from analyzers.text_overlay.ppocr import PPOCR, db_boxes, model_dir

    t_import = time.process_time() - t0
    t0 = time.process_time()
    ocr = PPOCR(model_dir(), threads=1)
    t_load = time.process_time() - t0
    det, zones, rec, lines = [], [], [], 0
    for img in frames:
        h = img.shape[0]
        t0 = time.process_time()
        prob, sx, sy = ocr.prob_map(img, max(img.shape[:2]))
        boxes = db_boxes(prob, sx, sy)
        det.append(time.process_time() - t0)
        t0 = time.process_time()
        for part in (img[: h // 4], img[int(h * 0.6):]):
            p, zx, zy = ocr.prob_map(part, max(part.shape[:2]))
            db_boxes(p, zx, zy)
        zones.append(time.process_time() - t0)
        for b in boxes:
            x1, y1, x2, y2 = (int(v) for v in b[:4])
            t0 = time.process_time()
            ocr.read(img[y1:y2, x1:x2])
            rec.append(time.process_time() - t0)
            lines += 1
    return {"engine": "PP-OCRv4 (DB + CTC, onnxruntime)", "import_s": t_import, "load_s": t_load,
            "det_per_frame_s": sum(det) / len(det), "det_caption_zones_per_frame_s": sum(zones) / len(zones),
            "rec_per_line_s": sum(rec) / max(1, len(rec)), "frames": len(frames), "lines": lines}


def main(argv: list[str]) -> None:
    engine, folder = argv[0], Path(argv[1])
    frames = _frames(folder)
    out = _easyocr(frames) if engine == "easyocr" else _ppocr(frames)
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}))


if __name__ == "__main__":
    main(sys.argv[1:])
