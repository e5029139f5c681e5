"""The environment every analyzer process gets, on any backend.

Only these variables: no host environment leaks into an analyzer. They keep
libraries offline and point their caches at the job's writable temp folder
(the root is read-only in a container).
"""
from __future__ import annotations


def analyzer_environment(threads: int, tmp: str, home: str | None = None) -> dict[str, str]:
    t = str(max(1, threads))
    return {
        "PATH": "/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "LANG": "C.UTF-8",
        "HOME": home or tmp,
        "TMPDIR": tmp,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "OMP_NUM_THREADS": t,
        "OPENBLAS_NUM_THREADS": t,
        "MKL_NUM_THREADS": t,
        "NUMEXPR_MAX_THREADS": t,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HOME": f"{tmp}/hf",
        "YOLO_OFFLINE": "1",
        "YOLO_CONFIG_DIR": f"{tmp}/ultralytics",
        "EASYOCR_MODULE_PATH": f"{tmp}/easyocr",
        "MPLCONFIGDIR": f"{tmp}/mpl",
        "NUMBA_CACHE_DIR": f"{tmp}/numba",
        "XDG_CACHE_HOME": f"{tmp}/cache",
        "CI": "true",  # openvino: no telemetry
        "OPENVINO_TELEMETRY_DISABLE": "1",
    }
