# The two commands a newcomer needs:  make demo  and  make test
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ASSETS ?= $(abspath ../shared/assets)
# Tests and the demo use the shared assets as the model store unless told otherwise.
export RUNNER_MODELS_DIR ?= $(ASSETS)/models
WORK ?= $(CURDIR)/.work
DEMO_VIDEO := $(WORK)/demo.mp4

.PHONY: setup envs demo test test-fast schema bench ci ci-images system-deps clean help lock

help:
	@echo "make demo   - set up and analyze VIDEO=... (default: a sample clip it makes)"
	@echo "make test   - set up and run the test suite"
	@echo "make setup | envs | schema | bench | images | clean"
	@echo "make lock [UPGRADE=1] - refresh requirements/*.lock (the runner's own environment)"

system-deps:
	@command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ffmpeg; \
	  else echo "ffmpeg is missing: sudo apt-get install ffmpeg" >&2; exit 2; fi; }
	@# the HTML report tests open the page in a real headless Chromium
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; \
	  else echo "chromium is missing (HTML report tests skip): sudo apt-get install chromium" >&2; fi; }
	@# text_overlay's labelled set (tests/analyzers/text_set_sources.py) draws its captions with these fonts
	@[ -f /usr/share/fonts/truetype/liberation2/LiberationSans-Bold.ttf ] && [ -f /usr/share/fonts/truetype/freefont/FreeSerifBold.ttf ] \
	  && [ -f /usr/share/fonts/truetype/noto/NotoSans-Regular.ttf ] && [ -f /usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc ] \
	  && [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf ] || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    fonts-dejavu-core fonts-liberation2 fonts-freefont-ttf fonts-noto-core fonts-noto-cjk; \
	  else echo "fonts are missing (text_overlay's labelled set): sudo apt-get install fonts-dejavu-core fonts-liberation2 fonts-freefont-ttf fonts-noto-core fonts-noto-cjk" >&2; fi; }

setup: system-deps $(VENV)/.installed
	@# runner outside make finds the same model store (~/.config/tiktok-runner/config.toml; README)
	@$(BIN)/python -m runner.core.user_config RUNNER_MODELS_DIR=$(RUNNER_MODELS_DIR)

# The runner's own environment comes from the lock (exact versions, sha256 hashes; requirements/):
# a fresh install is the tested install. The project itself goes in without touching a dependency.
LOCK := requirements/runner.lock
$(VENV)/.installed: pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --require-hashes -r $(LOCK)
	$(BIN)/pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

# One command refreshes the lock: re-resolve pyproject.toml (every extra) for every platform with
# hashes, keeping the current pins unless UPGRADE=1. uv is pinned and lives in its own venv.
UV_VERSION := 0.13.9
UV := $(VENV)-lock/bin/uv
LOCK_FLAGS = --universal --python-version 3.11 --generate-hashes --native-tls --quiet \
             --custom-compile-command 'make lock' $(if $(UPGRADE),--upgrade)
$(UV):
	$(PYTHON) -m venv $(VENV)-lock
	$(VENV)-lock/bin/pip install -q --disable-pip-version-check uv==$(UV_VERSION)
lock: $(UV)
	$(UV) pip compile pyproject.toml requirements/build.in --all-extras $(LOCK_FLAGS) -o $(LOCK)
	$(UV) pip compile pyproject.toml --extra api --constraint $(LOCK) $(LOCK_FLAGS) -o requirements/api.lock
	@echo "lock: $(LOCK) and requirements/api.lock refreshed; now: make setup test"

# Local-backend environments, one per group (cpu, torch), like the images.
envs: setup
	$(BIN)/runner envs build

$(DEMO_VIDEO):
	mkdir -p $(WORK)
	ffmpeg -hide_banner -nostdin -v error -y \
	  -f lavfi -i "testsrc2=size=720x1280:rate=30:duration=4" \
	  -f lavfi -i "color=c=0x2060c0:size=720x1280:rate=30:duration=3" \
	  -f lavfi -i "sine=frequency=330:duration=7" \
	  -filter_complex "[0:v][1:v]xfade=transition=fade:duration=1:offset=3.5,drawtext=text='FOLLOW FOR PART 2':fontcolor=white:fontsize=56:x=(w-tw)/2:y=h*0.8:enable='between(t,1,4)'[v]" \
	  -map "[v]" -map 2:a -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -shortest $@

demo: envs $(if $(VIDEO),,$(DEMO_VIDEO))
	mkdir -p $(WORK)
	RUNNER_WORK_ROOT=$(WORK)/runs $(BIN)/runner analyze "$(or $(VIDEO),$(DEMO_VIDEO))" --out $(WORK)/report.json --html; \
	  rc=$$?; echo "report: $(WORK)/report.json and report.html (exit $$rc: 0 all ok, 1 some analyzer not ok)"; [ $$rc -le 1 ]

test: envs
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow and not docker" $(PYTEST_ARGS)

schema: setup
	$(BIN)/runner schema --out schema

bench: envs
	$(BIN)/python -m tests.bench $(BENCH_ARGS)

# Docker images and CI image steps live in images/images.mk (double-colon rules add to these).
ci-images::
	@true
-include images/images.mk
# Model exports that need a tool (YOLO to TFLite/OpenVINO), run in the analyzer's own environment.
-include models.mk

ci: envs ci-images test

clean:
	rm -rf $(WORK) schema
