"""The analyzer SDK (``base``, ``harness``), the shared helpers (``common``) and one package per analyzer.

Each analyzer folder is a package, ``analyzers.<name>``, whose private modules import each other
relatively (``from ._tracks import link``) and the shared helpers it declares in its manifest
absolutely (``from analyzers.common.boxes import nms``). The harness imports it inside the
analyzer's own environment or image; the host only ever reads its ``analyzer.toml``. Analyzer
folders are not part of the installed distribution.
"""
