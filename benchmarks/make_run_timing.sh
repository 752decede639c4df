#!/usr/bin/env bash
# `make run` through the Dask runner and the same budgets in one sequential `kedro run`, one
# after the other in the same hour on the same machine, each from the same state: the raw
# (sample) data kept, every output and cache of data/02..09 removed first (ingest's
# incremental cache would otherwise skip the second run's extraction).
#   bash benchmarks/make_run_timing.sh [OUT_DIR]       (default /tmp/make_run_timing)
# Writes OUT_DIR/<mode>.log (the run), OUT_DIR/<mode>.time (/usr/bin/time -v),
# OUT_DIR/<mode>_model_comparison.csv, OUT_DIR/<mode>_pm25_metrics.csv and, for the Dask run,
# OUT_DIR/dask_tasks.csv (each task's wall, CPU, peak RSS) and OUT_DIR/dask_stream.csv (every
# task the cluster ran, splits included: benchmarks/task_stream.py reads it). KEEP_DATA=1 also keeps each run's
# data/02..05 (the tables and tensors the models read) as OUT_DIR/<mode>_data, to compare.
set -euo pipefail
OUT=${1:-/tmp/make_run_timing}
MODES=${MODES:-"dask sequential"}
mkdir -p "$OUT"
# musicnn's weights (data/06_models/pretrained, kept between runs): from a local wheel when
# MUSICNN_WHEEL names one, as `make run` would fetch them from PyPI
if [ -n "${MUSICNN_WHEEL:-}" ]; then .venv/bin/gtzan fetch musicnn --wheel "$MUSICNN_WHEEL"; fi
for mode in $MODES; do
  # a fresh clone has no data/09_logs until its first run
  mkdir -p data/02_intermediate data/03_primary data/04_feature data/05_model_input \
           data/06_models data/07_model_output data/08_reporting data/09_logs
  find data/02_intermediate data/03_primary data/04_feature data/05_model_input data/06_models \
       data/07_model_output data/08_reporting data/09_logs -path data/06_models/pretrained -prune \
       -o -type f ! -name .gitkeep -exec rm -f {} +
  case $mode in
    dask) runner=gtzan_kedro.runners.DaskRunner ;;
    sequential) runner=SequentialRunner ;;
    *) echo "unknown mode $mode" >&2; exit 2 ;;
  esac
  echo "$(date -u +%FT%TZ) $mode: make run RUNNER=$runner" | tee -a "$OUT/summary.txt"
  /usr/bin/time -v -o "$OUT/$mode.time" make run RUNNER=$runner > "$OUT/$mode.log" 2>&1 \
    || echo "$mode: make run failed (exit $?)" | tee -a "$OUT/summary.txt"
  cp data/08_reporting/model_comparison.csv "$OUT/${mode}_model_comparison.csv" || true
  cp data/08_reporting/pm25_metrics.csv "$OUT/${mode}_pm25_metrics.csv" 2>/dev/null || true
  [ "$mode" = dask ] && cp data/09_logs/tasks/latest.csv "$OUT/dask_tasks.csv" || true
  [ "$mode" = dask ] && cp data/09_logs/tasks/*.stream.csv "$OUT/dask_stream.csv" 2>/dev/null || true
  if [ -n "${KEEP_DATA:-}" ]; then
    rm -rf "$OUT/${mode}_data" && mkdir -p "$OUT/${mode}_data"
    cp -r data/02_intermediate data/03_primary data/04_feature data/05_model_input "$OUT/${mode}_data/"
  fi
  grep -E "Elapsed|User time|System time|Maximum resident" "$OUT/$mode.time" | tee -a "$OUT/summary.txt"
done
