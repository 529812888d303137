# musebench: `make install` then `make test`. See README.md.
PYTHON    ?= python3
PIP       ?= $(PYTHON) -m pip
# The CPU wheel by default (a plain `torch` pulls gigabytes of CUDA packages);
# on a GPU machine: make install TORCH='torch==2.13.0 --index-url <your CUDA wheel index>'
TORCH     ?= torch==2.13.0
MODEL     ?= markov
DATASET   ?=
PRESET    ?= standard
SEED      ?= 0
DEVICES   ?= 1
PRECISION ?= 32-true
STRATEGY  ?= auto
NODES     ?= 1
OUT       ?= runs
MODELS    ?=
DATASETS  ?=
SEEDS     ?= $(SEED)
JOBS      ?= 1

.PHONY: install install-audio test lint regress regress-update bench bench-all leaderboard perf official

install:
	$(PIP) install $(TORCH)
	$(PIP) install -e ".[dev]"

install-audio:  # optional: WAV rendering of samples
	apt-get update && apt-get install -y fluidsynth fluid-soundfont-gm

test: lint
	$(PYTHON) -m pytest -q

lint:
	$(PYTHON) -m ruff check .

# The CI regression gate: every model's smoke run on the fixture against tests/regression/.
# One torch thread (pinned in the run) and one BLAS thread, so every run sums in one order.
regress:
	OMP_NUM_THREADS=1 musebench regress

# Re-bless the golden files (2 pinned runs + 1 at 2 threads per model) after a deliberate
# change; prints the table of what changed. Review it and commit tests/regression/.
regress-update:
	OMP_NUM_THREADS=1 musebench regress --update

bench:
	musebench bench --model $(MODEL) $(if $(DATASET),--dataset $(DATASET)) --preset $(PRESET) \
	  --seed $(SEED) --devices $(DEVICES) --strategy $(STRATEGY) --num-nodes $(NODES) \
	  --precision $(PRECISION) --out $(OUT)

bench-all:
	musebench bench-all --preset $(PRESET) $(if $(MODELS),--models $(MODELS)) \
	  $(if $(DATASETS),--datasets $(DATASETS)) --seeds $(SEEDS) --jobs $(JOBS) --out $(OUT)
	musebench leaderboard --format md --results $${MUSEBENCH_RESULTS:-$(OUT)/results.jsonl}

leaderboard:
	musebench leaderboard --format html --out $(OUT)/leaderboard.html \
	  --results $${MUSEBENCH_RESULTS:-$(OUT)/results.jsonl}

# The official grid of experiments/tracks.yaml (resumable; needs a clean tree).
official:
	$(PYTHON) -m musebench official $(if $(TRACKS),--tracks $(TRACKS))
	$(PYTHON) -m musebench leaderboard --official

perf:
	$(PYTHON) -m musebench.perf --out $(OUT)/perf.json
