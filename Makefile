# Entry points for a fresh clone: `make run`, `make test`, `make bench`, `make viz`.
# Each creates .venv (Python 3.11) and installs the project when missing.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIPELINE ?=
ENV ?=

export KEDRO_DISABLE_TELEMETRY := 1
export DO_NOT_TRACK := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONWARNINGS := ignore::DeprecationWarning

MODEL ?= models:/gtzan_genre/latest
PORT ?= 5001

.PHONY: install run sample rehearsal test bench viz mlflow serve help

help:
	@echo "make run    - install, write the sample corpus if data/01_raw has no audio, fetch musicnn weights if missing, run every pipeline on WORKERS=2 Dask workers"
	@echo "make rehearsal - GTZAN-sized synthetic corpus in data/rehearsal, every pipeline at --env gtzan budgets (resumable)"
	@echo "make test   - install with test extras and run the test suite"
	@echo "make bench  - reference vs fast feature extractor benchmark"
	@echo "make viz    - build the static kedro-viz site into build/ (kedro viz run: live)"
	@echo "make mlflow - open the MLflow UI on the runs in mlflow.db"
	@echo "make serve  - serve the registered genre model (MODEL=models:/gtzan_genre/latest PORT=5001)"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# tensorflow replaced tensorflow-cpu (same files): installing over it and removing it later breaks the import
	-@$(BIN)/python -m pip uninstall --quiet -y tensorflow-cpu 2>/dev/null
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@# numba caches compiled kernels on disk; filling that cache from parallel workers can crash
	$(BIN)/python -m gtzan_kedro.audio.warmup
	@touch $(STAMP)

install: $(STAMP)

PRSA := data/01_raw/pm25/PRSA_data_2010.1.1-2014.12.31.csv

# The sample data is procedural: written only when data/01_raw has no audio or no PRSA
# file yet (the pipeline never overwrites or mixes into real data).
sample: $(STAMP)
	@if [ -z "$$(find data/01_raw -type f \( -name '*.wav' -o -name '*.mp3' -o -name '*.au' -o -name '*.flac' -o -name '*.ogg' \) -print -quit)" ]; then \
		echo "data/01_raw holds no audio: writing the SYNTHETIC sample corpus (and PRSA file if absent)"; \
		$(BIN)/kedro run --pipeline sample_data; \
	elif [ ! -f $(PRSA) ]; then \
		echo "$(PRSA) is absent: writing a SYNTHETIC PRSA-format file"; \
		$(BIN)/kedro run --pipeline sample_data --nodes write_sample_prsa; \
	fi

# The embeddings pipeline needs musicnn's pretrained weights (`gtzan fetch musicnn`: pip
# download from PyPI, the only network `make run` needs). Fetched here when missing; when that
# fails (offline), the default run goes on without the embeddings pipeline and says so.
MUSICNN_CACHED = $(BIN)/python -c "from gtzan_kedro.fetch import musicnn_weights_dir; musicnn_weights_dir()" 2>/dev/null

# The default run uses both cores: gtzan_kedro.runners.DaskRunner runs each node of the default
# pipeline as a task on a Dask LocalCluster of WORKERS process workers (a protocol's splits too),
# each node once the nodes it reads from are done; every task's wall, CPU seconds and peak RSS
# land in data/09_logs/tasks/latest.csv. DASK_SCHEDULER_ADDRESS=tcp://HOST:8786 runs it on a
# running cluster instead (docs/scale.md); RUNNER=SequentialRunner is one plain `kedro run`.
# A first run (no data/09_logs/tasks/latest.csv yet) puts the longest chains first by the node
# times of a measured sample-scale run (TASK_TIMES); later runs by their own last run.
WORKERS ?= 2
TASK_TIMES ?= benchmarks/results/2026-12-07-make-run-tasks.csv
comma := ,
RUNNER ?= gtzan_kedro.runners.DaskRunner
RUNNER_ARGS = --runner $(RUNNER) $(if $(findstring DaskRunner,$(RUNNER)),--runner-params n_workers=$(WORKERS)$(if $(ENV),,$(if $(TASK_TIMES),$(comma)task_times=$(TASK_TIMES))))

run: sample
	@if [ -n "$(PIPELINE)" ]; then \
		$(BIN)/kedro run --pipeline $(PIPELINE) $(RUNNER_ARGS) $(if $(ENV),--env $(ENV)); \
	else \
		pipelines=; \
		if ! $(MUSICNN_CACHED) && ! $(BIN)/gtzan fetch musicnn; then \
			echo "WARNING: musicnn weights are absent and could not be fetched (no PyPI?): running every"; \
			echo "WARNING: pipeline but embeddings. Later: gtzan fetch musicnn [--wheel FILE]; make run PIPELINE=embeddings"; \
			pipelines="--pipelines $$($(BIN)/python -m gtzan_kedro.pipeline_registry --without embeddings)"; \
		fi; \
		$(BIN)/kedro run $(RUNNER_ARGS) $$pipelines $(if $(ENV),--env $(ENV)) && \
		$(BIN)/python -m gtzan_kedro.reporting_summary --protocol holdout; \
	fi

# The full-size rehearsal: 1000 synthetic 30-s clips in their own project root (data/rehearsal),
# every pipeline piece by piece at --env gtzan budgets, each piece `kedro run
# --only-missing-outputs` (run it again to resume); logs, times and peak RSS in data/rehearsal/logs.
# REHEARSAL_PIECES="ingest image_models:image_models.cnn_mel" runs some pieces only.
rehearsal: $(STAMP)
	KEDRO=$(CURDIR)/$(BIN)/kedro scripts/rehearsal.sh

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --durations=15 $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/extract_bench.py $(BENCH_ARGS)

viz: $(STAMP)
	$(BIN)/kedro viz build --include-hooks
	@echo "static kedro-viz site written to build/"

mlflow: $(STAMP)
	$(BIN)/kedro mlflow ui

# The registered model takes audio (path or base64); `kedro run --pipeline inference` registers it.
serve: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" MLFLOW_TRACKING_URI=sqlite:///mlflow.db \
		$(BIN)/mlflow models serve -m $(MODEL) --env-manager local -h 127.0.0.1 -p $(PORT)
