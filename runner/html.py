"""``report.html`` beside ``report.json``: the entry point the pipeline and ``runner report`` call.

The page is built by :mod:`runner.report_html`.
"""
from __future__ import annotations

from runner.report_html import render, write_html

__all__ = ["render", "write_html"]
