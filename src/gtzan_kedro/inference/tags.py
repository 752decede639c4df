"""`gtzan tags`: musicnn's pretrained tags (MSD or MagnaTagATune) for any audio file."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import click

MODELS = {"msd": "MSD", "mtt": "MTT"}


def tag_files(files: Sequence[str | Path], extractor, top: int = 5) -> list[dict]:
    """One ``{"file", "tags": [{"tag", "probability"}], "error"}`` per file, bad files included.

    Tags are ranked by their mean probability over the file's 3-s patches.
    """
    from gtzan_kedro.audio.io import AudioError
    from gtzan_kedro.audio.musicnn_input import file_patches
    from gtzan_kedro.models.musicnn import top_tags, track_summary

    results = []
    for path in files:
        try:
            summary = track_summary(extractor.patch_outputs(file_patches(path)))
            ranked = top_tags(summary["tags"], extractor.tag_names, top)
            results.append({"file": str(path), "error": None,
                            "tags": [{"tag": t, "probability": round(p, 4)} for t, p in ranked]})
        except AudioError as exc:
            results.append({"file": str(path), "tags": [], "error": str(exc)})
        except Exception as exc:  # an unexpected decoder failure is still one file's problem
            results.append({"file": str(path), "tags": [], "error": f"{path}: {type(exc).__name__}: {exc}"})
    return results


def to_table(results: list[dict]) -> str:
    """Plain-text table: one line per file, tags with probabilities, or the file's error."""
    lines = []
    for r in results:
        if r["error"]:
            lines.append(f"{r['file']}\terror: {r['error']}")
        else:
            lines.append(f"{r['file']}\t" + ", ".join(f"{t['tag']} ({t['probability']:.2f})" for t in r["tags"]))
    return "\n".join(lines)


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--model", "model", type=click.Choice(sorted(MODELS)), default="msd", show_default=True,
              help="Tag vocabulary: msd (Million Song Dataset: genres, eras, moods) or mtt "
                   "(MagnaTagATune: instruments, voice, genre).")
@click.option("--arch", type=click.Choice(["musicnn", "vgg"]), default="musicnn", show_default=True,
              help="musicnn, or the vgg baseline trained on the same data.")
@click.option("--top", type=click.IntRange(1, 50), default=5, show_default=True, help="Tags per file.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="Output format on stdout.")
@click.option("--weights-dir", type=click.Path(file_okay=False), default=None,
              help="Folder written by `gtzan fetch musicnn` (default: $GTZAN_MUSICNN_DIR or "
                   "data/06_models/pretrained/musicnn).")
def tags(paths: tuple[str, ...], model: str, arch: str, top: int, fmt: str, weights_dir: str | None) -> None:
    """Print musicnn's top tags for audio files (pretrained on MSD or MagnaTagATune).

    PATHS are files or folders (searched recursively for wav, mp3, flac, ogg, au). Any
    sample rate or channel count is resampled to 16 kHz mono, cut into 3-s patches, and the
    tags are ranked by their mean probability over the patches. A file that cannot be used
    gets one line on stderr; the others are still tagged and the exit code is 1.
    """
    from gtzan_kedro.audio.io import find_audio_files
    from gtzan_kedro.fetch import FetchError
    from gtzan_kedro.models.musicnn import MusicnnExtractor, MusicnnWeightsError

    files = find_audio_files(paths)
    if not files:
        click.echo("error: no audio files found in " + ", ".join(paths), err=True)
        sys.exit(2)
    try:
        extractor = MusicnnExtractor(f"{MODELS[model]}_{arch}", weights_dir)
    except (FetchError, MusicnnWeightsError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    results = tag_files(files, extractor, top)
    click.echo(json.dumps(results, indent=2) if fmt == "json" else to_table(results))
    failed = [r for r in results if r["error"]]
    for r in failed:
        click.echo(f"error: {r['error']}", err=True)
    if failed:
        click.echo(f"{len(failed)} of {len(results)} file(s) failed", err=True)
        sys.exit(1)
