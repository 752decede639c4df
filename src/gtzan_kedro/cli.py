"""The `gtzan` console script: Kaggle features and genre predictions for any audio file, and
the summary of a run (`gtzan report`)."""

from __future__ import annotations

import json
import os
import sys

import click

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


# Kedro imports `<package>.cli.cli` as the project's extra `kedro` commands; we add none,
# the `gtzan` script below is separate.
cli = click.Group(name="gtzan_kedro_project_commands")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gtzan_kedro")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Music-genre tools on top of the gtzan-kedro pipelines."""
    if ctx.invoked_subcommand in ("predict", "tags"):
        tensorflow_quietly()


def tensorflow_quietly() -> None:
    """Import TensorFlow and find its devices with its start-up lines ("oneDNN custom operations
    are on", "Could not find cuda drivers", "failed call to cuInit") sent to the log at DEBUG,
    not the user's terminal: TF 2.19+ prints them before TF_CPP_MIN_LOG_LEVEL is read
    (tensorflow/tensorflow#100442). No-op where TensorFlow is not installed."""
    import importlib.util

    if importlib.util.find_spec("tensorflow") is None:
        return
    from gtzan_kedro.audio.io import decoder_stderr_to_log

    with decoder_stderr_to_log("tensorflow start-up"):
        import tensorflow as tf

        tf.config.list_physical_devices()


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--segment-seconds", type=float, default=None,
              help="Cut each file into segments of S seconds (3 gives Kaggle's 3-s table); "
                   "default: one row per file.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv",
              show_default=True, help="Output format on stdout.")
@click.option("--jobs", "-j", type=int, default=1, show_default=True,
              help="Files decoded in parallel (-1: all cores).")
@click.option("--extractor", type=click.Choice(["fast", "reference"]), default="fast",
              show_default=True,
              help="fast: one shared STFT and a fast exact HPSS (same values to 1e-3); "
                   "reference: librosa's per-feature recipe.")
def features(paths: tuple[str, ...], segment_seconds: float | None, fmt: str, jobs: int,
             extractor: str = "fast") -> None:
    """Print Kaggle-column feature rows (features_30_sec.csv layout) for audio files.

    PATHS are files or folders (searched recursively for wav, mp3, flac, ogg, au). Any
    sample rate or channel count is resampled to 22050 Hz mono. A file that cannot be
    used gets one line on stderr; the others are still processed and the exit code is 1.
    """
    from gtzan_kedro.audio.features import KAGGLE_COLUMNS, file_feature_rows, rows_to_table
    from gtzan_kedro.audio.io import AudioError, find_audio_files

    import warnings

    # librosa warns on degenerate clips (e.g. a pure tone); the rows are still valid.
    warnings.filterwarnings("ignore", category=UserWarning)
    files = find_audio_files(paths)
    if not files:
        click.echo("error: no audio files found in " + ", ".join(paths), err=True)
        sys.exit(2)
    if segment_seconds is not None and segment_seconds <= 0:
        raise click.BadParameter("must be positive", param_hint="--segment-seconds")

    def one(path):
        try:
            return file_feature_rows(path, label=None, segment_seconds=segment_seconds,
                                     extractor=extractor), None
        except AudioError as exc:
            return None, str(exc)
        except Exception as exc:  # an unexpected decoder failure is still one file's problem
            return None, f"{path}: {type(exc).__name__}: {exc}"

    if jobs == 1 or len(files) == 1:
        results = map(one, files)
    else:
        from joblib import Parallel, delayed

        from gtzan_kedro.audio.warmup import warm_numba_cache

        warm_numba_cache()  # compile once before the pool: parallel first compiles can crash

        results = Parallel(n_jobs=jobs, return_as="generator")(delayed(one)(f) for f in files)

    rows, failed = [], 0
    for rows_or_none, error in results:
        if error:
            failed += 1
            click.echo(f"error: {error}", err=True)
        else:
            rows.extend(rows_or_none)
    table = rows_to_table(rows)[KAGGLE_COLUMNS]
    if fmt == "csv":
        if rows:
            click.echo(table.to_csv(index=False), nl=False)
    else:
        records = json.loads(table.to_json(orient="records"))
        click.echo(json.dumps(records, indent=2))
    if failed:
        click.echo(f"{failed} of {len(files)} file(s) failed", err=True)
        sys.exit(1)


@main.command()
@click.argument("dataset", type=click.Choice(["gtzan", "split", "pm25", "musicnn", "all"]))
@click.option("--raw-dir", type=click.Path(file_okay=False), default="data/01_raw", show_default=True,
              help="Kedro's raw layer of the project.")
@click.option("--archive", type=click.Path(dir_okay=False), default=None,
              help="Kaggle's GTZAN zip you already downloaded (skips the Kaggle API).")
@click.option("--wheel", default=None, metavar="PATH|URL",
              help="musicnn-0.1.0-py3-none-any.whl you already have (skips `pip download`).")
@click.option("--musicnn-dir", type=click.Path(file_okay=False), default="data/06_models/pretrained/musicnn",
              show_default=True, help="Where the musicnn checkpoints are unpacked.")
def fetch(dataset: str, raw_dir: str, archive: str | None, wheel: str | None = None,
          musicnn_dir: str = "data/06_models/pretrained/musicnn") -> None:
    """Download the real data into data/01_raw (needs internet; Kaggle needs an API token).

    gtzan: Kaggle's GTZAN archive (audio, images, feature CSVs) into data/01_raw/gtzan/;
    split: the fault-filtered train/valid/test lists; pm25: UCI's Beijing PM2.5 CSV;
    musicnn: the pretrained musicnn weights (pip download of the musicnn 0.1.0 wheel, hash-checked).
    """
    import tempfile

    from gtzan_kedro import fetch as fetchers

    steps = ["gtzan", "split", "pm25", "musicnn"] if dataset == "all" else [dataset]
    failed = False
    for step in steps:
        try:
            if step == "gtzan":
                if archive:
                    where = fetchers.unpack_kaggle_archive(archive, raw_dir)
                else:
                    with tempfile.TemporaryDirectory() as tmp:
                        where = fetchers.unpack_kaggle_archive(fetchers.download_kaggle_archive(tmp), raw_dir)
            elif step == "musicnn":
                where = fetchers.fetch_musicnn(musicnn_dir, source=wheel)
            elif step == "split":
                where = fetchers.fetch_fault_filtered_split(raw_dir)
            else:
                where = fetchers.fetch_prsa(raw_dir)
            click.echo(f"{step}: written to {where}")
        except fetchers.FetchError as exc:
            failed = True
            click.echo(f"error: {step}: {exc}", err=True)
    if failed:
        sys.exit(1)


# `gtzan predict` lives beside this module with the model lookup it needs (cli_resolve).
from gtzan_kedro.cli_predict import predict  # noqa: E402

main.add_command(predict)

# `gtzan tags`: pretrained musicnn tags (issue 14).
from gtzan_kedro.inference.tags import tags  # noqa: E402

main.add_command(tags)


@main.command()
@click.option("--top", type=int, default=10, show_default=True, help="Rows to print.")
@click.option("--protocol", default=None, help="Only this protocol (holdout, fault_filtered, leaky_segments).")
def report(top: int, protocol: str | None) -> None:
    """Print the most accurate rows of data/08_reporting/model_comparison.csv and where
    report.html is (run from the project directory)."""
    from gtzan_kedro.reporting_summary import summary

    click.echo(summary(top=top, protocol=protocol))


if __name__ == "__main__":
    main()
