"""One run end to end: plan, execute on a backend, read each sandbox's output, merge into one report."""
