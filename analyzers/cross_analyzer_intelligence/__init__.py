"""cross_analyzer_intelligence: analyzer.toml declares what it needs, analyzer.py does the work.

The harness imports this folder as the package ``analyzers.cross_analyzer_intelligence``.
"""
