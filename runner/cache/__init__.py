"""The result cache: what a result is keyed on, and the store of ok envelopes with their files."""
