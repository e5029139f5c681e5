"""toy_final: analyzer.toml declares what it needs, analyzer.py does the work.

The harness imports this folder as the package ``analyzers.toy_final``.
"""
