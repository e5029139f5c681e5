"""Images: :mod:`.build` builds the cpu and torch bases and one image per analyzer (and assembles the
build context the media and fetch sandbox images, :mod:`runner.media.image` and
:mod:`runner.download.image`, are built with); :mod:`.sandbox` tells whether those two are built.
The smoke run (``runner images smoke``) runs the pipeline, so it lives above it, in
:mod:`runner.commands.images`."""
