"""gtzan_kedro.scheduling: the runner's submission order and the makespan simulation."""

from __future__ import annotations

import pandas as pd
import pytest
from kedro.pipeline import Pipeline, node

from gtzan_kedro.scheduling import (
    bottom_levels,
    critical_path_priorities,
    expand_splits,
    graph_of,
    read_task_durations,
    simulate_makespan,
)

# a -> b -> d, a -> c -> d, e alone
GRAPH = {"a": set(), "b": {"a"}, "c": {"a"}, "d": {"b", "c"}, "e": set()}
SECONDS = {"a": 2, "b": 10, "c": 1, "d": 3, "e": 4}


def test_bottom_level_is_own_time_plus_longest_chain_after() -> None:
    assert bottom_levels(GRAPH, SECONDS) == {"a": 15, "b": 13, "c": 4, "d": 3, "e": 4}


def test_one_worker_runs_everything_back_to_back() -> None:
    makespan, slots = simulate_makespan(GRAPH, SECONDS, 1)
    assert makespan == sum(SECONDS.values())
    assert [s.node for s in slots][:2] == ["a", "b"]  # the longest chain first


def test_two_workers_follow_the_critical_path() -> None:
    makespan, slots = simulate_makespan(GRAPH, SECONDS, 2)
    # a(0-2) then b(2-12) on worker 0; e(0-4), c(4-5) on worker 1; d waits for b: 12-15
    assert makespan == 15
    start = {s.node: s.start for s in slots}
    assert start["d"] == 12 and start["b"] == 2
    assert len({(s.worker, s.start) for s in slots}) == len(GRAPH)


def test_many_workers_cannot_beat_the_critical_path() -> None:
    assert simulate_makespan(GRAPH, SECONDS, 16)[0] == max(bottom_levels(GRAPH, SECONDS).values())


def test_splits_of_a_node_run_side_by_side_stage_after_stage() -> None:
    # b's 10 s are two holdouts, then one more split: 10/3 s each
    graph, seconds = expand_splits(GRAPH, SECONDS, {"b": [2, 1]})
    assert "b" not in graph and graph["b#1.0"] == {"b#0.0", "b#0.1"}
    assert graph["d"] == {"b#1.0", "c"} and graph["b#0.1"] == {"a"}
    assert sum(seconds.values()) == pytest.approx(sum(SECONDS.values()))
    # unlimited workers: a, the two stages of b, then d
    assert simulate_makespan(graph, seconds, 16)[0] == pytest.approx(2 + 2 * 10 / 3 + 3)
    # two workers: e holds one until 4 s, so b's second holdout starts late, still under 15 s
    assert simulate_makespan(graph, seconds, 2)[0] == pytest.approx(4 + 10 / 3 * 2 + 3)
    # a node without splits (or with one stage of one split) is left as it is
    assert expand_splits(GRAPH, SECONDS, {"c": [1]})[0]["d"] == {"b", "c#0.0"}
    assert expand_splits(GRAPH, SECONDS, {})[0] == GRAPH


def test_cycles_and_bad_worker_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="cycle"):
        bottom_levels({"x": {"y"}, "y": {"x"}}, {})
    with pytest.raises(ValueError, match="at least 1"):
        simulate_makespan(GRAPH, SECONDS, 0)


def _identity(x):
    return x


def test_priorities_come_from_the_pipeline_graph_and_the_last_task_log(tmp_path) -> None:
    pipeline = Pipeline([node(_identity, "raw", "mid", name="first"),
                         node(_identity, "mid", "out", name="second"),
                         node(_identity, "raw", "side", name="side")])
    assert graph_of(pipeline) == {"first": set(), "second": {"first"}, "side": set()}
    assert read_task_durations(tmp_path) == {}  # no log yet: every node counts the same
    pd.DataFrame({"node": ["first", "second", "side", "side"], "wall_s": [5.0, 7.0, 1.0, 2.0],
                  "status": ["done", "done", "done", "failed"]}).to_csv(tmp_path / "latest.csv")
    seconds = read_task_durations(tmp_path)
    assert seconds == {"first": 5.0, "second": 7.0, "side": 1.0}
    assert critical_path_priorities(pipeline, seconds) == {"first": 12.0, "second": 7.0, "side": 1.0}
