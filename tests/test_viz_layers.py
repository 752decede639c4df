"""kedro-viz's layered view: the catalog's ``metadata: kedro-viz: layer:`` values, read along
the registered pipelines' data flow, must not form a cycle (kedro-viz then switches layers off
with "Layers visualisation is disabled as circular dependency detected among layers") and must
run in Kedro's data-engineering order, the order of the data/01_raw .. 08_reporting folders."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest
from kedro.config import OmegaConfigLoader
from kedro.framework.startup import bootstrap_project
from kedro.io.catalog_config_resolver import CatalogConfigResolver
from kedro.pipeline import Pipeline

REPO_ROOT = Path(__file__).resolve().parents[1]
LAYER_ORDER = ("raw", "intermediate", "primary", "feature", "model_input", "models",
               "model_output", "reporting")


def catalog_layers(conf_source: Path = REPO_ROOT / "conf", env: str | None = None
                   ) -> Callable[[str], str | None]:
    """``layer_of(dataset)``: the kedro-viz layer the catalog (patterns included) gives it."""
    from gtzan_kedro.settings import CONFIG_LOADER_ARGS

    loader = OmegaConfigLoader(str(conf_source), env=env, **CONFIG_LOADER_ARGS)
    resolver = CatalogConfigResolver(loader["catalog"])

    def layer_of(name: str) -> str | None:
        if name.startswith("params:") or name == "parameters":
            return None
        config = resolver.resolve_pattern(name) or {}
        return ((config.get("metadata") or {}).get("kedro-viz") or {}).get("layer")

    return layer_of


def layer_flow(pipeline: Pipeline, layer_of: Callable[[str], str | None]
               ) -> dict[tuple[str, str], tuple[str, str]]:
    """Every (upstream layer, downstream layer) pair the data flow implies, as kedro-viz reads
    it (through unlayered datasets and nodes), each with one (dataset, dataset) witness."""
    consumers = defaultdict(list)
    for node in pipeline.nodes:
        for name in node.inputs:
            consumers[name].append(node)
    downstream: dict[str, set[str]] = {}  # dataset -> datasets reachable from it

    def reach(name: str) -> set[str]:
        if name not in downstream:
            downstream[name] = set()
            found = set()
            for node in consumers[name]:
                for output in node.outputs:
                    found |= {output} | reach(output)
            downstream[name] = found
        return downstream[name]

    flow = {}
    for name in sorted(pipeline.datasets()):
        upper = layer_of(name)
        if upper is None:
            continue
        for other in sorted(reach(name)):
            lower = layer_of(other)
            if lower is not None and lower != upper:
                flow.setdefault((upper, lower), (name, other))
    return flow


def layer_cycle(flow: dict[tuple[str, str], tuple[str, str]]) -> list[str] | None:
    """A cycle among the layers (kedro-viz's check: graphlib's topological sort), or None."""
    parents = defaultdict(set)
    for upper, lower in flow:
        parents[lower].add(upper)
        parents.setdefault(upper, set())
    try:
        list(TopologicalSorter(parents).static_order())
    except CycleError as exc:
        return list(exc.args[1])
    return None


def backwards(flow: dict[tuple[str, str], tuple[str, str]]) -> list[str]:
    """Each flow from a later layer of :data:`LAYER_ORDER` to an earlier one, with its witness."""
    return [f"{upper} -> {lower} ({a} -> {b})" for (upper, lower), (a, b) in sorted(flow.items())
            if LAYER_ORDER.index(upper) > LAYER_ORDER.index(lower)]


@pytest.fixture(scope="module")
def registered() -> dict[str, Pipeline]:
    """Every registered pipeline by name (kedro-viz sorts each one's layers on its own)."""
    bootstrap_project(REPO_ROOT)
    from gtzan_kedro.pipeline_registry import register_pipelines

    return register_pipelines()


@pytest.mark.parametrize("env", [None, "gtzan", "gpu"])
def test_catalog_layers_follow_the_data_flow(registered, env):
    layer_of = catalog_layers(env=env)
    problems = {}
    for name, pipeline in sorted(registered.items()):
        flow = layer_flow(pipeline, layer_of)
        unknown = {layer for pair in flow for layer in pair} - set(LAYER_ORDER)
        found = ([f"layers outside Kedro's convention: {sorted(unknown)}"] if unknown else []) + (
            [f"circular layers: {layer_cycle(flow)}"] if layer_cycle(flow) else []) + backwards(flow)
        if found:
            problems[name] = found
    assert problems == {}


def test_a_backwards_layer_is_caught(registered):
    """track_index (ingest's first output) relabelled as reporting: it feeds the feature tables
    and tensors, which feed reports, so reporting would come both before and after them."""
    layer_of = catalog_layers()
    flow = layer_flow(registered["__default__"],
                      lambda name: "reporting" if name == "track_index" else layer_of(name))
    cycle = layer_cycle(flow)
    assert cycle is not None and "reporting" in cycle
    assert any(line.startswith("reporting -> primary (track_index -> features_30_sec")
               for line in backwards(flow))
