"""Evaluation: splits, metrics, plots and song-level aggregation (no Kedro imports)."""
