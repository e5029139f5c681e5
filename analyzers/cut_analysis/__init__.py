"""cut_analysis: analyzer.toml declares what it needs, analyzer.py does the work.

The harness imports this folder as the package ``analyzers.cut_analysis``.
"""
