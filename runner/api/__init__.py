"""The HTTP API (``runner serve``): app factory and the submit route in :mod:`.app`, routes over jobs in
:mod:`.routes_jobs`, bodies in :mod:`.schemas`, JSON errors in :mod:`.errors`, job store in :mod:`.jobs`,
worker pool in :mod:`.worker`, request checks in :mod:`.security`, settings in :mod:`.settings`.

Kept import-free so the downloader can use :mod:`.settings` and :mod:`.security` without FastAPI.
"""
