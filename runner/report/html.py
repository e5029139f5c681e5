"""``report.html`` beside ``report.json``: the entry point the pipeline and ``runner report`` call.

The page is built by :mod:`runner.report`.
"""
from __future__ import annotations

from runner.report import render, write_html

__all__ = ["render", "write_html"]
