"""Images: :mod:`.build` builds the cpu and torch bases and one image per analyzer (and assembles the
build context the runner's own sandbox images are built with); :mod:`.sandbox` is the table of those
(media, fetch): their tags, digests, one build and one status.
The smoke run (``runner images smoke``) runs the pipeline, so it lives above it, in
:mod:`runner.commands.images`."""
