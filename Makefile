# musebench: `make install` then `make test`. See README.md.
#
# PYTHON is the interpreter that builds the environment. Outside an active virtual
# environment, `make install` creates a project venv ($(VENV)) with it (PEP 668: Debian's
# own python3 refuses `pip install` outside one), and every target runs that venv's python.
# Inside an active venv or conda environment, that environment's python is used as is.
PYTHON    ?= python3
VENV      ?= .venv
# The python every target runs: the active environment's, else the project venv's once
# `make install` made it, else PYTHON (a machine set up by hand). Evaluated when used, so
# `make install test` in one call runs the tests in the venv it just made.
ACTIVE_ENV = $(VIRTUAL_ENV)$(CONDA_PREFIX)
PY         = $(if $(ACTIVE_ENV),python,$(shell test -x $(VENV)/bin/python && echo $(VENV)/bin/python || echo $(PYTHON)))
PIP        = $(PY) -m pip
# The CPU wheel by default (a plain `torch` pulls gigabytes of CUDA packages);
# on a GPU machine: make install TORCH='torch==2.13.0 --index-url <your CUDA wheel index>'
TORCH     ?= torch==2.13.0
MODEL     ?= markov
DATASET   ?=
PRESET    ?= standard
SEED      ?= 0
# Empty: the config's setting (Lightning's default where the config has none). Giving the
# default explicitly (PRECISION=32-true) names the same run: `make bench RESUME=1` finds it.
DEVICES   ?=
PRECISION ?=
STRATEGY  ?=
NODES     ?=
RESUME    ?=
OUT       ?= runs
MODELS    ?=
DATASETS  ?=
SEEDS     ?= $(SEED)
JOBS      ?= 1

.PHONY: install install-packages install-audio test lint regress regress-update bench bench-all leaderboard perf perf-data calibrate gpu-check official

# `make install PY=python3` installs into that interpreter instead (no venv is made).
install:
ifeq ($(origin PY),file)
	@if [ -z "$(ACTIVE_ENV)" ] && [ ! -x $(VENV)/bin/python ]; then \
	  echo "make install: creating the project virtual environment $(VENV) with $(PYTHON)"; \
	  $(PYTHON) -m venv $(VENV) || { echo "make install: '$(PYTHON) -m venv' failed;" \
	    "on Debian/Ubuntu: apt-get install python3-venv" >&2; exit 1; }; \
	fi
endif
	@$(MAKE) --no-print-directory install-packages

# A separate make, so that PY names the venv the step above may just have created.
install-packages:
	$(PIP) install $(TORCH)
	$(PIP) install -e ".[dev]"
	@echo "make install: done; run the command as $(PY) -m musebench (or activate $(VENV))"

install-audio:  # optional: WAV rendering of samples
	apt-get update && apt-get install -y fluidsynth fluid-soundfont-gm

# The suite on every core (at most TEST_WORKERS): pytest-xdist, tests handed out in
# blocks and stolen by an idle worker (the every-model DDP file alone is minutes), one
# torch thread per worker (tests/conftest.py).
TEST_WORKERS ?= 4
test: lint
	$(PY) -m pytest -q -n auto --maxprocesses=$(TEST_WORKERS) --dist worksteal --durations=25

lint:
	$(PY) -m ruff check .

# The CI regression gate: every model's smoke run on the fixture against tests/regression/.
# One torch thread (pinned in the run) and one BLAS thread, so every run sums in one order.
regress:
	OMP_NUM_THREADS=1 $(PY) -m musebench regress

# Re-bless the golden files (2 pinned runs + 1 at 2 threads per model) after a deliberate
# change; prints the table of what changed. Review it and commit tests/regression/.
regress-update:
	OMP_NUM_THREADS=1 $(PY) -m musebench regress --update

bench:
	$(PY) -m musebench bench --model $(MODEL) $(if $(DATASET),--dataset $(DATASET)) \
	  --preset $(PRESET) --seed $(SEED) $(if $(DEVICES),--devices $(DEVICES)) \
	  $(if $(STRATEGY),--strategy $(STRATEGY)) $(if $(NODES),--num-nodes $(NODES)) \
	  $(if $(PRECISION),--precision $(PRECISION)) --out $(OUT) \
	  $(if $(filter 1 yes true,$(RESUME)),--resume)

bench-all:
	$(PY) -m musebench bench-all --preset $(PRESET) $(if $(MODELS),--models $(MODELS)) \
	  $(if $(DATASETS),--datasets $(DATASETS)) --seeds $(SEEDS) --jobs $(JOBS) --out $(OUT)
	$(PY) -m musebench leaderboard --format md --results $${MUSEBENCH_RESULTS:-$(OUT)/results.jsonl}

leaderboard:
	$(PY) -m musebench leaderboard --format html --out $(OUT)/leaderboard.html \
	  --results $${MUSEBENCH_RESULTS:-$(OUT)/results.jsonl}

# The official grid of experiments/tracks.yaml (resumable; needs a clean tree); a part with
# TRACKS=…, DATASETS=…, MODELS=… (every seed of the protocol).
official:
	$(PY) -m musebench official $(if $(TRACKS),--tracks $(TRACKS)) \
	  $(if $(DATASETS),--datasets $(DATASETS)) $(if $(MODELS),--models $(MODELS))
	$(PY) -m musebench leaderboard --official

perf:
	$(PY) -m musebench.perf --out $(OUT)/perf.json

# What each standard budget costs in the official grid's condition (one thread a run, two
# side by side), and the budget that takes the protocol's 9 minutes (~25 min; grids stopped).
calibrate:
	$(PY) -m musebench.perf.calibrate

# Every readable data source built from scratch (minutes per large corpus; make perf
# builds only the embedded default and the fixture).
perf-data:
	$(PY) -m musebench.perf --only perf_data --data-sources all --out $(OUT)/perf_data.json

# On a machine with a GPU: fp32/bf16 throughput, DDP over the GPUs and peak memory (~4 min).
gpu-check:
	$(PY) -m musebench.perf.gpu_check --out $(OUT)/gpu_check.json
