"""A waveform audio classifier exported to ONNX, from the model store.

The contract a store model follows (checked when it loads, with an error that says what differs):
one input, float32 ``[batch=1, samples]`` mono 16 kHz in [-1, 1]; first output ``[1, classes]``;
class names in the model's metadata ``labels`` (comma-separated), a ``labels.txt`` beside it, or
the ``id2label`` of a Hugging Face ``config.json`` beside it; metadata ``output`` = ``logits``
(default, softmax applied here) or ``probabilities``. A ``preprocessor_config.json`` beside it
with ``do_normalize: true`` (wav2vec2-style exports, e.g. ``optimum-cli export onnx``) makes
each clip zero-mean, unit-variance first.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from analyzers.common.onnx_session import onnx_session


class ModelContractError(ValueError):
    """The ONNX file does not follow the contract above."""


class OnnxAudioClassifier:
    def __init__(self, path: Path, threads: int = 1, device: str = "cpu"):
        #: every file this model was read from: the .onnx, then the side files it found (record each)
        self.files = [path] + [path.parent / n for n in ("labels.txt", "config.json", "preprocessor_config.json")
                               if (path.parent / n).is_file()]
        self.session = onnx_session(path, threads, device)
        inputs = self.session.get_inputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 2 or inputs[0].type != "tensor(float)":
            got = [(i.name, i.type, i.shape) for i in inputs]
            raise ModelContractError(f"{path.name}: expected one float input [1, samples], got {got}")
        self.input_name = inputs[0].name
        meta = self.session.get_modelmeta().custom_metadata_map
        if meta.get("labels"):
            self.labels = [x.strip() for x in meta["labels"].split(",")]
        elif (path.parent / "labels.txt").is_file():
            self.labels = [x.strip() for x in (path.parent / "labels.txt").read_text().splitlines() if x.strip()]
        elif "id2label" in _json(path.parent / "config.json"):
            id2label = _json(path.parent / "config.json")["id2label"]
            self.labels = [id2label[k] for k in sorted(id2label, key=int)]
        else:
            raise ModelContractError(f"{path.name}: no `labels` metadata, labels.txt or config.json id2label beside it")
        self.normalize = bool(_json(path.parent / "preprocessor_config.json").get("do_normalize", False))
        self.output = meta.get("output", "logits")
        if self.output not in ("logits", "probabilities"):
            raise ModelContractError(f"{path.name}: metadata output={self.output!r}, expected logits|probabilities")
        if int(meta.get("sample_rate", 16000)) != 16000:
            raise ModelContractError(f"{path.name}: expects {meta['sample_rate']} Hz audio, the runner gives 16000")

    def predict(self, samples: np.ndarray) -> dict[str, float]:
        """Class probabilities for one clip of 16 kHz mono samples."""
        if self.normalize:
            samples = (samples - samples.mean()) / np.sqrt(samples.var() + 1e-7)
        out = self.session.run(None, {self.input_name: samples.astype(np.float32)[None, :]})[0]
        scores = np.asarray(out, dtype=np.float64).reshape(-1)
        if scores.size != len(self.labels):
            raise ModelContractError(f"model gives {scores.size} scores for {len(self.labels)} labels")
        if self.output == "logits":
            scores = np.exp(scores - scores.max())
        scores = np.clip(scores, 0, None)
        total = scores.sum()
        if not np.isfinite(total) or total <= 0:
            raise ModelContractError("model output is not a usable score vector")
        probs = scores / total
        return {label: float(p) for label, p in zip(self.labels, probs)}


def _json(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except ValueError as exc:
        raise ModelContractError(f"{path.name} beside the model is not valid JSON: {exc}") from None
    return data if isinstance(data, dict) else {}
