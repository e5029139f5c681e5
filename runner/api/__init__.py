"""The HTTP API (``runner serve``): app factory in :mod:`.app`, job store in :mod:`.jobs`, worker pool in
:mod:`.worker`, request checks in :mod:`.security`, settings in :mod:`.settings`.

Kept import-free so the downloader can use :mod:`.settings` and :mod:`.security` without FastAPI.
"""
