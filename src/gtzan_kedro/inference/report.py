"""Renderings of prediction results: a readable table, JSON, CSV, and the pipeline's table."""

from __future__ import annotations

import json

import pandas as pd

from gtzan_kedro.inference.predictor import TOP_K

CSV_COLUMNS = [
    "file", "level", "start_s", "genre", "probability",
    *[f"{name}_{k}" for k in range(2, TOP_K + 1) for name in ("genre", "probability")],
    "vote_genre", "vote_share", "n_segments", "error",
]
PREDICTION_COLUMNS = [
    "file", "genre", "probability",
    *[f"{name}_{k}" for k in range(2, TOP_K + 1) for name in ("genre", "probability")],
    "vote_genre", "vote_share", "n_segments", "duration_s", "error",
]


def to_json(results: list[dict]) -> str:
    """A JSON list with one object per file (errors as ``{"file", "error"}``)."""
    return json.dumps(results, indent=2)


def _top_columns(result: dict) -> dict:
    row = {"genre": result["genre"], "probability": round(result["probability"], 4)}
    for k, item in enumerate(result["top"][1:], start=2):
        row[f"genre_{k}"] = item["genre"]
        row[f"probability_{k}"] = round(item["probability"], 4)
    return row


def to_csv(results: list[dict]) -> str:
    """One ``song`` row per file (top-3, vote) followed by its ``segment`` rows."""
    rows = []
    for result in results:
        if "error" in result:
            rows.append({"file": result["file"], "level": "song", "error": result["error"]})
            continue
        rows.append({
            "file": result["file"], "level": "song", **_top_columns(result),
            "vote_genre": result["vote"]["genre"],
            "vote_share": round(result["vote"]["votes"] / result["vote"]["of"], 4),
            "n_segments": result["n_segments"],
        })
        for seg in result["segments"]:
            rows.append({"file": result["file"], "level": "segment", "start_s": seg["start_s"],
                         "genre": seg["genre"], "probability": round(seg["probability"], 4)})
    table = pd.DataFrame(rows, columns=CSV_COLUMNS).astype({"n_segments": "Int64"})
    return table.to_csv(index=False)


def predictions_table(results: list[dict]) -> pd.DataFrame:
    """One row per file: song genre, top-3, vote, or the error (the pipeline's output)."""
    rows = []
    for result in results:
        if "error" in result:
            rows.append({"file": result["file"], "error": result["error"]})
            continue
        rows.append({
            "file": result["file"], **_top_columns(result),
            "vote_genre": result["vote"]["genre"],
            "vote_share": round(result["vote"]["votes"] / result["vote"]["of"], 4),
            "n_segments": result["n_segments"], "duration_s": result["duration_s"],
        })
    table = pd.DataFrame(rows, columns=PREDICTION_COLUMNS)
    return table.astype({"n_segments": "Int64"})


def to_table(results: list[dict]) -> str:
    """What a person reads: per file the top-3 genres, the vote and each segment's genre."""
    blocks = []
    for result in results:
        if "error" in result:
            blocks.append(f"{result['file']}\n  error: {result['error']}")
            continue
        whole_track = result.get("level") == "track"  # a track-level probe: no segments
        if whole_track:
            lines = [f"{result['file']}  (whole track, {result['duration_s']:.1f} s)",
                     "  song (one prediction on the whole track):"]
        else:
            lines = [
                f"{result['file']}  ({result['duration_s']:.1f} s, {result['n_segments']} "
                f"segment(s) of {result['segment_seconds']:g} s)",
                "  song (mean probability over segments):",
            ]
        for rank, item in enumerate(result["top"], start=1):
            bar = "#" * round(item["probability"] * 20)
            lines.append(f"    {rank}. {item['genre']:<10} {item['probability']:6.1%}  {bar}")
        if whole_track:
            blocks.append("\n".join(lines))
            continue
        vote = result["vote"]
        lines.append(f"  majority vote: {vote['genre']} ({vote['votes']} of {vote['of']} segments)")
        lines.append("  segments:   start  genre       probability")
        for seg in result["segments"]:
            lines.append(f"            {seg['start_s']:6.1f}s  {seg['genre']:<10}  {seg['probability']:6.1%}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
