"""embeddings: valid tracks -> musicnn (MSD, MTT) embeddings, one feature table per pooling,
then linear probes on the tables of ``embedding_probes.feature_sets`` (the audio_models
template: same protocols, rows in model_comparison.csv) and the best probe for `gtzan predict`."""

from kedro.pipeline import Pipeline, node, pipeline

from gtzan_kedro.pipelines.embeddings.nodes import FEATURE_SETS, embed_tracks, select_best_probe
from gtzan_kedro.project_parameters import section
from gtzan_kedro.templates.feature_models import build, models_for

OUTPUTS = [*FEATURE_SETS, *(f"{name}_3s" for name in FEATURE_SETS), "embeddings_cache_updates",
           "embeddings_stats"]
PROBES = "embedding_probes"


def probe_namespaces() -> list[tuple[str, str]]:
    """(feature set, model) of every probe the parameters define, namespace embeddings.<set>.<model>."""
    params = section(PROBES)
    return [(f, m) for f in params.get("feature_sets") or {} for m in models_for(f, params)]


def _best_probe(feature_sets: dict[str, dict], probes: list[tuple[str, str]]) -> Pipeline:
    """Refit the best probe on its whole table, for `gtzan predict --model best_embedding_probe`."""
    sets = list(feature_sets)
    tables = [feature_sets[f]["table"] for f in sets]
    per_split = [f"embeddings.{f}.{m}.per_split_metrics" for f, m in probes]

    def best(models, evaluation, manifest, *frames):
        return select_best_probe(models, evaluation, dict(zip(sets, frames[:len(sets)])),
                                 list(frames[len(sets):]), manifest)

    best.__name__ = "select_best_probe"
    best.__doc__ = select_best_probe.__doc__
    return Pipeline([node(best, [f"params:{PROBES}.models", f"params:{PROBES}.evaluation",
                                 "sample_corpus_manifest", *tables, *per_split],
                          "best_embedding_probe", name="select_best_embedding_probe")],
                    namespace="embeddings", prefix_datasets_with_namespace=False)


def create_pipeline(**kwargs) -> Pipeline:
    """Embed new or changed tracks (``embeddings_cache`` / ``embeddings_cache_updates`` are the
    read and write sides of one per-track cache), write the track- and patch-level tables, and
    score every probe on the tables the parameters name."""
    extract = pipeline([
        node(embed_tracks, ["valid_tracks", "embeddings_cache", "params:embeddings"],
             {name: name for name in OUTPUTS}, name="embed_tracks"),
    ], namespace="embeddings", prefix_datasets_with_namespace=False)
    probes = probe_namespaces()
    if not probes:
        return extract
    feature_sets = section(PROBES)["feature_sets"]
    return extract + build(list(feature_sets), section_name=PROBES, group_prefix="embeddings") \
        + _best_probe(feature_sets, probes)
