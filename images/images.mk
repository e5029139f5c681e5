# Docker images: one per analyzer on a cpu or torch base (docs/docker.md). Included by the Makefile.
RUNNER ?= $(BIN)/runner
# extra `runner images build` options, e.g. IMAGE_ARGS="--pip-source network --ca-bundle /etc/ssl/certs/ca-certificates.crt"
IMAGE_ARGS ?=
.PHONY: images image-% images-from images-bases images-smoke

# Something to build the cpu base FROM, under a local name no public registry resolves: made here
# with debootstrap + docker import (`runner images bootstrap-base`), never pulled by accident.
# PULL=1 pulls python:3.11-slim-bookworm instead and tags it with the local name.
LOCAL_BASE ?= localhost/tiktok-runner/debian-python:bookworm
PULL ?=
images-from: setup
	@docker image inspect $(LOCAL_BASE) >/dev/null 2>&1 \
	  || { [ "$(PULL)" = 1 ] && docker pull python:3.11-slim-bookworm \
	       && docker tag python:3.11-slim-bookworm $(LOCAL_BASE); } \
	  || $(RUNNER) images bootstrap-base --tag $(LOCAL_BASE)

images-bases: images-from
	$(RUNNER) images build --bases-only $(IMAGE_ARGS)

images: images-from
	$(RUNNER) images build media fetch $(IMAGE_ARGS)
	$(RUNNER) images build $(IMAGE_ARGS)

image-%: images-from
	$(RUNNER) images build --force $* $(IMAGE_ARGS)

images-smoke:
	$(RUNNER) images smoke $(NAMES)

# CI: the cpu base, the media sandbox image (ffprobe/ffmpeg) and the download sandbox image (yt-dlp; both
# part of --bases-only), every cpu analyzer, the torch base and every torch analyzer: every image, no
# switch. The toys' images are built by the docker tests themselves (seconds each on the cpu base).
# A base that fails stops CI; an analyzer image that fails does not stop the other steps, but fails CI
# all the same: under CI=true tests/integration/test_docker_images.py fails for every real analyzer
# whose image is not built, next to every other test's result.
ci-images:: images-from
	@t0=$$(date +%s); \
	$(RUNNER) images build --bases-only --base cpu $(IMAGE_ARGS) || exit 1; \
	$(RUNNER) images build --base cpu $(IMAGE_ARGS) || echo "ci-images: WARNING some cpu images failed"; \
	echo "ci-images: cpu base + cpu analyzers in $$(( $$(date +%s) - t0 ))s"; \
	t1=$$(date +%s); \
	$(RUNNER) images build --bases-only $(IMAGE_ARGS) || exit 1; \
	$(RUNNER) images build --base torch $(IMAGE_ARGS) || echo "ci-images: WARNING some torch images failed"; \
	echo "ci-images: torch base + torch analyzers in $$(( $$(date +%s) - t1 ))s"
