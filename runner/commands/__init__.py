"""The ``runner`` command line: one module per command group, registered explicitly in :mod:`.main`."""
