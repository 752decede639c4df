"""Resumable runs: ``kedro run --only-missing-outputs`` that also notices changed parameters
and data.

Kedro's own ``--only-missing-outputs`` skips a node whose persistent outputs exist, whatever
parameters or inputs produced them. :class:`ResumeHook` adds the missing half: when all of a
node's outputs are saved it stores a fingerprint of that node (its ``params:`` values and the
content of its input files, or for an in-memory input the fingerprint of the node that made
it) in the ``node_fingerprints`` folder of the catalog. At the start of an
``--only-missing-outputs`` run, a node whose stored fingerprint differs from the current one,
or is absent, or sits downstream of such a node, has its outputs reported as missing to
Kedro's filter, so it runs again; every other node with existing outputs is skipped by Kedro.

A skipped model keeps its rows in model_comparison.csv (the table is upserted, never
rewritten) and its MLflow run: it was logged by the run that trained it (the fingerprint is
written after the tracking hook ran), and the resumed run lists the skipped nodes with the
MLflow run they were tracked under in its ``resume_skipped_nodes.json`` artifact. Code edits
are not part of the fingerprint: after changing a model's code, run without the flag (or
delete that node's file under ``node_fingerprints``).
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import AbstractDataset
from kedro.pipeline import Node, Pipeline

from gtzan_kedro.fileio import atomic_write_text

logger = logging.getLogger(__name__)

FINGERPRINTS = "node_fingerprints"   # catalog entry whose ``path`` is the fingerprint folder
HASHED_BYTES = 64 * 2**20            # files above this are fingerprinted by size and mtime


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=repr).encode()).hexdigest()


def dataset_paths(dataset: Any) -> list[Path]:
    """The local files or folders a dataset reads (wrappers such as OptionalDataset included)."""
    paths = [Path(str(value)) for attr in ("_filepath", "_path", "_prefer")
             if (value := getattr(dataset, attr, None))]
    inner = getattr(dataset, "_dataset", None)
    if isinstance(inner, AbstractDataset):
        paths += dataset_paths(inner)
    return paths


def _file_state(path: Path) -> list:
    stat = path.stat()
    if stat.st_size > HASHED_BYTES:
        return [stat.st_size, stat.st_mtime_ns]
    return [stat.st_size, hashlib.sha256(path.read_bytes()).hexdigest()]


def path_state(path: Path) -> Any:
    """What a file (its content) or folder (its files' names, sizes and mtimes) holds now."""
    if path.is_file():
        return _file_state(path)
    if path.is_dir():
        return [[str(p.relative_to(path)), p.stat().st_size, p.stat().st_mtime_ns]
                for p in sorted(path.rglob("*")) if p.is_file() and not p.name.startswith(".")]
    return None


class ResumeHook:
    """Stores each finished node's fingerprint; on ``--only-missing-outputs`` makes Kedro re-run
    the nodes whose fingerprint changed (and everything downstream of them)."""

    def __init__(self) -> None:
        self._pipeline: Pipeline | None = None
        self._catalog: Any = None
        self._saved: dict[str, set[str]] = {}
        self._skipped: dict[str, str | None] = {}

    # -- the Dask runner's workers (runners.DaskRunner) ----------------------------------------
    def worker_state(self) -> dict[str, Any]:
        """What a copy of this hook in a worker process needs to fingerprint the nodes it runs."""
        return {"pipeline": self._pipeline, "catalog": self._catalog, "skipped": self._skipped}

    def restore_worker_state(self, state: dict[str, Any]) -> None:
        self._pipeline, self._catalog = state["pipeline"], state["catalog"]
        self._skipped, self._saved = dict(state["skipped"]), {}

    # -- fingerprints -------------------------------------------------------------------------
    def _folder(self) -> Path | None:
        dataset = self._catalog.get(FINGERPRINTS) if FINGERPRINTS in self._catalog else None
        paths = dataset_paths(dataset) if dataset is not None else []
        return paths[0] if paths else None

    def _producers(self) -> dict[str, Node]:
        return {out: n for n in self._pipeline.nodes for out in n.outputs}

    def fingerprint(self, node: Node, memo: dict[str, str] | None = None) -> str:
        """Digest of the node's parameters and of what its inputs hold now."""
        memo = {} if memo is None else memo
        if node.name in memo:
            return memo[node.name]
        producers = self._producers()
        parts: dict[str, Any] = {"node": node.name, "outputs": sorted(node.outputs)}
        for name in node.inputs:
            if name.startswith("params:") or name == "parameters":
                parts[name] = self._catalog.load(name)
                continue
            dataset = self._catalog.get(name) if name in self._catalog else None
            paths = dataset_paths(dataset) if dataset is not None else []
            if paths:
                parts[name] = [path_state(p) for p in paths]
            elif name in producers:  # an in-memory input: what made it
                parts[name] = self.fingerprint(producers[name], memo)
        memo[node.name] = _digest(parts)
        return memo[node.name]

    def _stored(self, folder: Path, node: Node) -> dict:
        try:
            return json.loads((folder / f"{node.name}.json").read_text())
        except (OSError, ValueError):
            return {}

    def _persistent_outputs(self, node: Node) -> list[str]:
        return [name for name in node.outputs if name in self._catalog
                and not getattr(self._catalog.get(name), "_EPHEMERAL", False)]

    # -- hooks --------------------------------------------------------------------------------
    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Pipeline, catalog) -> None:
        self._pipeline, self._catalog = pipeline, catalog
        self._saved, self._skipped = {}, {}
        folder = self._folder()
        if not run_params.get("only_missing_outputs") or folder is None:
            return
        producers, memo, stale = self._producers(), {}, set()
        for node in pipeline.nodes:  # topological order: upstream staleness is known
            outputs = self._persistent_outputs(node)
            if not outputs:
                continue
            upstream = any(producers.get(i) and producers[i].name in stale for i in node.inputs)
            stored = self._stored(folder, node)
            if (upstream or stored.get("fingerprint") != self.fingerprint(node, memo)
                    or not all(catalog.exists(name) for name in outputs)):
                stale.add(node.name)
                for name in outputs:  # Kedro's filter re-runs a node with a missing output
                    catalog[name] = StaleOutput(catalog.get(name))
            else:
                self._skipped[node.name] = stored.get("mlflow_run_id")
        if self._skipped:
            logger.info("resume: %d node(s) finished earlier with the same parameters and data "
                        "are skipped: %s", len(self._skipped), ", ".join(sorted(self._skipped)))
        if stale:
            logger.info("resume: %d node(s) to run (new, changed or downstream of a change)",
                        len(stale))

    @hook_impl
    def before_node_run(self, node: Node) -> None:
        if not self._skipped:
            return
        skipped, self._skipped = self._skipped, {}
        try:
            import mlflow

            if mlflow.active_run() is not None:
                mlflow.log_dict({"skipped_nodes": skipped}, "resume_skipped_nodes.json")
        except Exception as exc:  # a tracking failure must not stop the run
            logger.warning("resume: the skipped nodes were not logged to MLflow: %s", exc)

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, node: Node | None = None) -> None:
        if node is None or self._catalog is None:
            return
        saved = self._saved.setdefault(node.name, set())
        saved.add(dataset_name)
        folder = self._folder()
        if folder is None or not set(node.outputs) <= saved:
            return
        record = {"node": node.name, "fingerprint": self.fingerprint(node),
                  "mlflow_run_id": _active_run_id()}
        atomic_write_text(folder / f"{node.name}.json", json.dumps(record, indent=1))


def _active_run_id() -> str | None:
    try:
        import mlflow

        run = mlflow.active_run()
        return run.info.run_id if run is not None else None
    except Exception:  # mlflow absent or broken: the fingerprint is what matters
        return None


class StaleOutput(AbstractDataset):
    """An output whose node must run again: reads and writes go to the wrapped dataset, but it
    reports itself missing so ``--only-missing-outputs`` schedules the node."""

    def __init__(self, dataset: AbstractDataset):
        self._dataset = dataset

    def load(self) -> Any:
        return self._dataset.load()

    def save(self, data: Any) -> None:
        self._dataset.save(data)

    def _exists(self) -> bool:
        return False

    def _describe(self) -> dict[str, Any]:
        return {"stale": self._dataset._describe()}
