"""One way to open an ONNX model: bounded threads, CUDA only when asked for and available."""
from __future__ import annotations

from pathlib import Path


def onnx_session(path: Path, threads: int = 1, device: str = "cpu"):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = max(1, threads)
    opts.inter_op_num_threads = 1
    providers = ["CPUExecutionProvider"]
    if device.startswith("cuda") and "CUDAExecutionProvider" in ort.get_available_providers():
        providers.insert(0, "CUDAExecutionProvider")
    return ort.InferenceSession(str(path), sess_options=opts, providers=providers)
