"""The analyzer SDK (``base``, ``harness``, ``testing``) and one folder per analyzer.

Analyzer folders are not Python packages of this distribution: the harness
loads ``<folder>/analyzer.py`` by path inside the analyzer's own environment
or image. The host only ever reads their ``analyzer.toml``.
"""
