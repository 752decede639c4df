"""Which genre model `gtzan predict` uses by default: the Kedro-aware part of the lookup.

The library (``gtzan_kedro.inference.resolve``) loads a model from a path or an MLflow URI
and picks the newest of several candidates; this module knows the project: where its root
is, what its catalog calls the best trained model, where its MLflow store lives.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

from gtzan_kedro.inference.predictor import EmbeddingGenrePredictor, GenrePredictor, as_predictor
from gtzan_kedro.inference.resolve import (
    BEST_MODEL_ENTRY,
    Candidate,
    ModelNotFound,
    load_predictor,
    newest_predictor,
    registry_candidate,
)

logger = logging.getLogger(__name__)

# The catalog entry the embeddings pipeline saves its best probe to (musicnn embeddings in).
BEST_PROBE_ENTRY = "best_embedding_probe"
# What --model accepts by name: the trained models the project's catalog saves.
CATALOG_MODELS = (BEST_MODEL_ENTRY, BEST_PROBE_ENTRY)


def find_project_root(start: str | Path | None = None) -> Path | None:
    """The nearest folder at or above ``start`` whose pyproject.toml has a [tool.kedro] table."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and "[tool.kedro]" in pyproject.read_text(errors="ignore"):
            return folder
    return None


def catalog_entry(project_root: Path, env: str | None, name: str) -> dict | None:
    """The raw catalog entry ``name`` of the project's conf (base + ``env``), or None."""
    from kedro.config import OmegaConfigLoader

    from gtzan_kedro import settings  # the project's loader arguments, without bootstrapping

    # bootstrap_project would also install Kedro's rich logging on a plain CLI; not wanted here.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # omegaconf's resolver deprecation notices
            loader = OmegaConfigLoader(conf_source=str(project_root / "conf"), env=env,
                                       **settings.CONFIG_LOADER_ARGS)
            catalog = loader["catalog"]
    except Exception as exc:  # a broken conf should not hide the MLflow candidates
        logger.warning("could not read the catalog of %s: %s", project_root, exc)
        return None
    return catalog.get(name)


def with_weights(predictor: GenrePredictor, project_root: Path | None) -> GenrePredictor:
    """A probe on musicnn embeddings with its weights found (the project's cache unless
    $GTZAN_MUSICNN_DIR says otherwise); ModelNotFound naming the fetch command when absent."""
    import os

    from gtzan_kedro.fetch import MUSICNN_CACHE_DIR, MUSICNN_CACHE_ENV, FetchError

    if not isinstance(predictor, EmbeddingGenrePredictor):
        return predictor
    if predictor.weights_dir is None and not os.environ.get(MUSICNN_CACHE_ENV) and project_root:
        predictor.weights_dir = str(project_root / MUSICNN_CACHE_DIR)
    try:
        predictor.check_weights()
    except FetchError as exc:
        raise ModelNotFound(f"{predictor.description}: it reads musicnn embeddings, but {exc}") from None
    return predictor


def catalog_candidate(project_root: Path, env: str | None, name: str = BEST_MODEL_ENTRY
                      ) -> Candidate | None:
    """The model the last training run saved through the catalog entry ``name``, when it exists."""
    entry = catalog_entry(project_root, env, name)
    if entry is None:
        return None
    key = "filepath" if "filepath" in entry else "path"
    if not entry.get(key):
        return None
    path = Path(entry[key])
    if not path.is_absolute():
        path = project_root / path
    if not path.exists():
        return None

    def load() -> GenrePredictor:
        from kedro.io import DataCatalog

        obj = DataCatalog.from_config({name: {**entry, key: str(path)}}).load(name)
        return with_weights(as_predictor(obj, description=_display_path(path)), project_root)

    return Candidate(str(path), path.stat().st_mtime, load)


def _display_path(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def default_predictor(project_root: Path | None = None, env: str | None = None) -> GenrePredictor:
    """The newest of: the catalog's best model file (Kaggle features), its best embedding probe,
    the newest registered MLflow version. A probe whose musicnn weights are absent is passed over."""
    project_root = project_root or find_project_root()
    candidates = [catalog_candidate(project_root, env, name) if project_root is not None else None
                  for name in CATALOG_MODELS]
    candidates.append(registry_candidate(project_root))
    where = f"in {project_root}" if project_root else "(not inside a Kedro project)"
    return newest_predictor([c for c in candidates if c is not None], where)


def resolve_predictor(
    model: str | None = None, project_root: Path | None = None, env: str | None = None
) -> GenrePredictor:
    """``model`` (a catalog name of :data:`CATALOG_MODELS`, a path or an MLflow URI) when
    given, else the latest trained model."""
    project_root = project_root or find_project_root()
    if model in CATALOG_MODELS:
        candidate = catalog_candidate(project_root, env, model) if project_root else None
        if candidate is None:
            where = f"in {project_root}" if project_root else "(not inside a Kedro project)"
            trainer = "embeddings" if model == BEST_PROBE_ENTRY else "audio_models"
            raise ModelNotFound(f"no saved {model} {where}: train it with `kedro run --pipeline "
                                f"{trainer}` (or `make run`)")
        return candidate.load()
    if model:
        return with_weights(load_predictor(model, project_root), project_root)
    return default_predictor(project_root, env)
