"""The harness's exit codes: how a sandbox tells the runner what happened even when its envelope is lost.

Shared by the harness (in every container) and the runner's collector, so neither imports the other.
"""
EXIT_OK = 0            # envelope written: ok or skipped
EXIT_FAILED = 1        # envelope written: failed
EXIT_INVALID = 2       # envelope written: invalid_output
EXIT_HARNESS = 3       # the harness itself could not start (bad job spec, import error)
EXIT_MEMORY = 4        # envelope written: failed with MemoryError; the runner calls it oom
