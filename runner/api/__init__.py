"""The HTTP API (``runner serve``): app factory and the submit route in :mod:`.app`, routes over jobs in
:mod:`.routes_jobs`, bodies in :mod:`.schemas`, JSON errors in :mod:`.errors`, job store in :mod:`.jobs`,
worker pool in :mod:`.worker`, request checks in :mod:`.security` and :mod:`.checks`, the worker's
heartbeat in :mod:`.heartbeat`. Its settings are the ``api`` section of the runner's settings
(:mod:`runner.core.api_config`, read by :mod:`runner.core.config`).

Kept import-free, so that ``runner worker --health`` (:mod:`.heartbeat`) runs without loading FastAPI.
"""
