"""Helpers several analyzers share: a small library, one module per job.

    boxes          IoU, NMS, greedy matching, an IoU tracker (object_detection, body_pose, faces)
    stride         every n-th frame of a frame set, read once (object_detection, body_pose, text_overlay)
    loudness       BS.1770 K-weighting, gated integrated loudness, EBU R128 loudness range
    face_detect    MediaPipe face boxes on square tiles (needs boxes)
    onnx_session   an onnxruntime session: bounded threads, CUDA only when asked for
    onnx_audio_clf a waveform audio classifier exported to ONNX, from the model store (needs onnx_session)
    speech_wav     reading the extracted 16 kHz mono WAV
    yolo           which export a YOLO weights file is

An analyzer declares the helpers it imports in its ``analyzer.toml`` (``helpers = ["boxes"]``,
including the helpers those helpers import); only those are copied into its image and hashed
into its source digest, so editing one helper leaves every other analyzer's image and cached
results valid. Import them absolutely: ``from analyzers.common.boxes import nms``. Nothing here
imports a heavy dependency at module level beyond what its users already need.
"""
