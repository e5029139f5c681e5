"""Admission and every ffprobe/ffmpeg call on user media: admit, probe, extract once, and which sandbox decodes."""
