"""The analyzer images and the runner's own sandbox images: what each is built from, build, status, smoke."""
