"""`gtzan predict`: the genre of any audio file (imports stay lazy so `gtzan --help` is fast)."""

from __future__ import annotations

import sys

import click


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--model", "model", default=None, metavar="NAME|PATH|URI",
              help="best_audio_model (Kaggle features) or best_embedding_probe (musicnn "
                   "embeddings; needs `gtzan fetch musicnn`), a saved model (.pkl/.joblib, an "
                   "MLflow model folder) or an MLflow model URI (runs:/<run_id>/genre_model, "
                   "models:/gtzan_genre/1). Default: the newest trained model of this project "
                   "(those two catalog entries or the MLflow registry).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True, help="Output format on stdout.")
@click.option("--env", default=None, help="Kedro config env used to find the default model (e.g. gtzan).")
def predict(paths: tuple[str, ...], model: str | None, fmt: str, env: str | None) -> None:
    """Classify the genre of audio files: top-3 for the whole song and each segment's genre.

    PATHS are files or folders (searched recursively for wav, mp3, flac, ogg, au). Each file
    is cut into the segments the model was trained on (3 s or 30 s), each segment is
    classified, and the song's genre is the mean probability over segments (the majority
    vote is shown too). A file that cannot be used is reported with its reason; the others
    are still classified and the exit code is 1.
    """
    import warnings

    from gtzan_kedro.audio.io import find_audio_files
    from gtzan_kedro.inference import report
    from gtzan_kedro.cli_resolve import resolve_predictor
    from gtzan_kedro.inference.resolve import ModelNotFound

    # Library deprecation notices (e.g. scikit-learn's on a pickled SVC) are for the model's
    # author, not for someone classifying a song.
    warnings.filterwarnings("ignore", category=FutureWarning)
    files = find_audio_files(paths)
    if not files:
        click.echo("error: no audio files found in " + ", ".join(paths), err=True)
        sys.exit(2)
    try:
        predictor = resolve_predictor(model, env=env)
    except ModelNotFound as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    embedding = getattr(predictor, "embedding", None)
    unit = (f"musicnn {embedding['model']} {embedding['output']} embeddings per "
            f"{'3-s patch' if embedding.get('level') == 'patch' else 'track'}" if embedding
            else f"{predictor.segment_seconds:g}-s segments")
    click.echo(f"model: {predictor.description or type(predictor.model).__name__}; "
               f"{len(predictor.classes)} genres, {unit}", err=True)
    # a predictor pickled before the field existed reads the class default, ""
    if note := predictor.training_note:
        click.echo(f"note: this model was {note}; train one on GTZAN for real predictions "
                   "(README: The real data)", err=True)
    results = predictor.predict_paths(files, progress=len(files) > 1 and sys.stderr.isatty())
    if fmt == "json":
        click.echo(report.to_json(results))
    elif fmt == "csv":
        click.echo(report.to_csv(results), nl=False)
    else:
        click.echo(report.to_table(results))
    failed = [r for r in results if "error" in r]
    for result in failed:
        if fmt != "table":  # the table already shows each error in place
            click.echo(f"error: {result['error']}", err=True)
    if failed:
        click.echo(f"{len(failed)} of {len(results)} file(s) failed", err=True)
        sys.exit(1)
