"""qwen2_vl_temporal: analyzer.toml declares what it needs, analyzer.py does the work.

The harness imports this folder as the package ``analyzers.qwen2_vl_temporal``.
"""
