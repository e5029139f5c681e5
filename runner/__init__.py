"""Host side of the sandbox runner: probe, extract once, plan, execute, merge."""
__version__ = "0.1.0"
