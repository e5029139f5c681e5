"""Helpers shared by several analyzers (tracking, face detection, WAV reading, ONNX audio models).

Copied into every analyzer image beside the SDK (``/app/analyzers/common``) and importable
locally from the repo root, so analyzers share one copy instead of keeping twins in sync.
Nothing here imports heavy dependencies at module level beyond what its users already need.
"""
