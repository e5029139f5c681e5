"""``runner batch``: many videos, serially or on a Ray cluster, one row per video."""
