#!/usr/bin/env bash
# The full-size rehearsal (issue 13): a GTZAN-sized SYNTHETIC corpus (100 clips per genre, 30 s)
# in its own project root, and every pipeline run on it with the --env gtzan budgets, piece by
# piece. Resumable: each piece is `kedro run --only-missing-outputs`, so running this script
# again skips every node that finished with the same parameters and data (gtzan_kedro.resume).
#
#   make rehearsal                                   # all pieces
#   make rehearsal REHEARSAL_PIECES="ingest image_models:image_models.cnn_mel"
#
# A piece is `<pipeline>` or `<pipeline>:<namespace>[,<namespace>]`. Each piece is one sequential
# `kedro run` unless REHEARSAL_RUNNER_ARGS names another runner, e.g.
#   REHEARSAL_RUNNER_ARGS="--runner gtzan_kedro.runners.DaskRunner --runner-params n_workers=2"
# Logs go to
# $REHEARSAL_DIR/logs: rehearsal.log (one start and one end line per piece, with wall time,
# user+sys CPU seconds and peak RSS), <piece>.log (Kedro's output), <piece>.time (time -v).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${REHEARSAL_DIR:-$ROOT/data/rehearsal}
KEDRO=${KEDRO:-$ROOT/.venv/bin/kedro}
ENV=${REHEARSAL_ENV:-gtzan}
PER_GENRE=${REHEARSAL_PER_GENRE:-100}
# (the audio tables' model namespaces, the 3-s table's tuned MLP on its own, as it takes 1 h 41 min
# (measured); then `audio_models`, whose only node left to run is the best-model refit over both tables;
# the transfer models' binned-FFT images before them)
PIECES=${REHEARSAL_PIECES:-"ingest feature_selection audio_models_30s:audio_models_30s
  audio_models_3s:audio_models_3s.mlp_tuned audio_models_3s:audio_models_3s audio_models
  image_models:image_models.cnn_stft image_models:image_models.cnn_mel
  image_models:image_models.cnn_mfcc image_models:image_models.cnn_image
  image_models:image_models.binned_fft image_models:image_models.vgg16
  image_models:image_models.alexnet image_models
  multimodal embeddings pm25_forecast reporting"}
TIME=/usr/bin/time
read -r -a RUNNER_ARGS <<< "${REHEARSAL_RUNNER_ARGS:-}"
# Kedro's rich console wraps a log file at 80 columns unless told wider
export COLUMNS=${COLUMNS:-160}

# Its own Kedro project root: the project's conf and code, its own data/, mlflow.db and logs,
# so the synthetic corpus never mixes with real data (Kedro resolves catalog paths against
# the project root, kedro-mlflow's sqlite:///mlflow.db against the working directory).
# (Kedro wants its source dir inside the root: src/ is a folder there, the package a link.)
mkdir -p "$DIR/logs" "$DIR/data" "$DIR/src"
for link in conf pyproject.toml src/gtzan_kedro; do ln -sfn "$ROOT/$link" "$DIR/$link"; done
# the pretrained musicnn weights are read from the main project (never fetched twice)
export GTZAN_MUSICNN_DIR=${GTZAN_MUSICNN_DIR:-$ROOT/data/06_models/pretrained/musicnn}
cd "$DIR" || exit 1
LOG=$DIR/logs/rehearsal.log
# the code the pieces run (a worktree of another commit can run the rehearsal into this root)
CODE="$ROOT @ $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- conf src 2>/dev/null || echo ' (uncommitted changes)')"

stamp() { date -u +%Y-%m-%dT%H:%M:%SZ; }

run_piece() {  # name, then kedro run arguments
  local name=$1; shift
  local file=${name//[:,]/__}
  # a piece stopped before its end line (killed, session over) keeps its log: its finished
  # models' "took" lines still count (benchmarks/rehearsal_table.py reads <piece>.run<k>.log too)
  if [ -f "logs/$file.log" ]; then
    local k=1
    while [ -f "logs/$file.run$k.log" ]; do k=$((k + 1)); done
    mv "logs/$file.log" "logs/$file.run$k.log"
  fi
  echo "$(stamp) start $name: kedro run $* [code: $CODE]" | tee -a "$LOG"
  $TIME -v -o "logs/$file.time" "$KEDRO" run "$@" > "logs/$file.log" 2>&1
  local rc=$?
  local wall cpu rss
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "logs/$file.time")
  cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.0f", s}' "logs/$file.time")
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "logs/$file.time")
  echo "$(stamp) end $name rc=$rc wall=$wall user+sys=${cpu}s peak_rss=${rss}MB" | tee -a "$LOG"
  return $rc
}

# The generator writes the clips, then the manifest: clips without a manifest are a corpus whose
# writing stopped, and the generator never writes into a folder that holds audio.
CORPUS=data/01_raw/gtzan/genres_original
if [ ! -f data/01_raw/gtzan/sample_corpus_manifest.csv ] && [ -n "$(find "$CORPUS" -type f -print -quit 2>/dev/null)" ]; then
  echo "$DIR/$CORPUS holds clips but no sample_corpus_manifest.csv: its writing stopped."
  echo "Remove it (rm -r '$DIR/$CORPUS') and run the same command again."
  exit 1
fi
if [ ! -f data/01_raw/gtzan/sample_corpus_manifest.csv ]; then
  run_piece sample_data --pipeline sample_data --params "sample_data.n_per_genre=$PER_GENRE" \
    || { echo "the rehearsal corpus could not be written: see $DIR/logs/sample_data.log"; exit 1; }
fi

# conf/gtzan's image models read Kaggle's images_original (30-s mel-spectrogram PNGs) from
# data/01_raw/gtzan; a synthetic corpus has none, so the ingest's own mel PNGs (the same kind of
# picture, in data/03_primary) stand in for them, through a link made once.
KAGGLE_IMAGES=data/01_raw/gtzan/images_original
if [ ! -e "$KAGGLE_IMAGES" ]; then
  ln -s ../../03_primary/images_original "$KAGGLE_IMAGES"
fi

# Offline, VGG16's ImageNet weights may be absent (Keras caches them under $KERAS_HOME/models):
# then every image_models piece runs vgg16 from random weights (the same network at the same cost;
# accuracies on the synthetic corpus mean nothing either way) instead of skipping it, and its
# start line shows the --params that says so.
VGG16_CACHE=${KERAS_HOME:-$HOME/.keras}/models/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5
IMAGE_ARGS=()
if [ ! -f "$VGG16_CACHE" ]; then
  IMAGE_ARGS=(--params image_models.models.vgg16.model.weights=null)
  echo "no VGG16 ImageNet weights at $VGG16_CACHE: image_models pieces time vgg16 from random weights"
fi

failed=0
for piece in $PIECES; do
  pipeline=${piece%%:*}
  args=(--env "$ENV" --pipeline "$pipeline" --only-missing-outputs "${RUNNER_ARGS[@]}")
  [ "$piece" != "$pipeline" ] && args+=(--namespaces "${piece#*:}")
  [ "$pipeline" = image_models ] && args+=("${IMAGE_ARGS[@]}")
  run_piece "$piece" "${args[@]}" || failed=1   # a failed piece does not stop the others
done
[ $failed = 0 ] || echo "some pieces failed (rc != 0 in $LOG): run the same command again to resume"
exit $failed
