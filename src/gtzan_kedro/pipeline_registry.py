"""Project pipelines: one package per registered pipeline under ``pipelines/``."""

from __future__ import annotations

import argparse
import pkgutil

from kedro.pipeline import Pipeline

# Not part of `kedro run` without --pipeline: sample_data writes raw data, inference
# classifies the inbox, and the audio_models_* variants are subsets of audio_models.
EXCLUDED_FROM_DEFAULT = ("sample_data", "inference", "audio_models_30s", "audio_models_3s")


def register_pipelines() -> dict[str, Pipeline]:
    """Every pipeline package, and ``__default__``: all but those excluded above."""
    # imported here: kedro.framework.project configures logging on import, which would print
    # into `python -m gtzan_kedro.pipeline_registry`'s output
    from kedro.framework.project import find_pipelines

    pipelines = find_pipelines(raise_errors=True)
    pipelines["__default__"] = sum(
        (p for name, p in pipelines.items() if name not in EXCLUDED_FROM_DEFAULT),
        Pipeline([]),
    )
    return pipelines


def default_pipeline_names() -> list[str]:
    """The pipelines ``__default__`` sums (read from the package folders, no project needed)."""
    from gtzan_kedro import pipelines

    return sorted(m.name for m in pkgutil.iter_modules(pipelines.__path__)
                  if m.ispkg and m.name not in EXCLUDED_FROM_DEFAULT)


def main(argv: list[str] | None = None) -> None:
    """``python -m gtzan_kedro.pipeline_registry --without embeddings`` prints the default
    pipelines but those, comma-separated, for ``kedro run --pipelines`` (what `make run` runs
    when musicnn's weights cannot be fetched)."""
    parser = argparse.ArgumentParser(prog="python -m gtzan_kedro.pipeline_registry")
    parser.add_argument("--without", nargs="*", default=[], help="pipelines to leave out")
    args = parser.parse_args(argv)
    names = default_pipeline_names()
    unknown = sorted(set(args.without) - set(names))
    if unknown:
        parser.error(f"not a default pipeline: {', '.join(unknown)} (they are {', '.join(names)})")
    print(",".join(n for n in names if n not in args.without))


if __name__ == "__main__":
    main()
