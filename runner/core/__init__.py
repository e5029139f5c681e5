"""The base every package of the runner may import: settings, errors, the analyzer registry, params,
source digests, the sandbox outbox, the lock and terminal text. It imports no feature (.importlinter);
the fetch image copies this file and errors.py (imports nothing)."""
