"""The rehearsal's measured table (docs/scale.md) from its logs: one row per piece (wall time,
user+sys CPU, peak RSS, from rehearsal.log's end lines) and one per model node inside it (its
wall time from hooks.NodeTimingHook's "node ... took" line, its splits and the epochs its fits
ran, from the progress lines of models.progress).

    python benchmarks/rehearsal_table.py                     # data/rehearsal
    python benchmarks/rehearsal_table.py /big/disk/rehearsal --format csv

Reads the logs only (works while a later piece is still running). Kedro's rich console wraps
long lines at 80 columns; records are joined back before they are matched.
"""

from __future__ import annotations

import argparse
import re
from datetime import datetime, timezone
import sys
import time
from collections import defaultdict
from pathlib import Path

from gtzan_kedro.durations import format_duration

# (a piece whose /usr/bin/time was killed has an end line with empty figures: its wall time is
# then its start and end stamps' difference)
END = re.compile(r"^(?P<stamp>\S+) end (?P<piece>\S+) rc=(?P<rc>-?\d+) wall=(?P<wall>\S*) "
                 r"user\+sys=(?P<cpu>\d*)s peak_rss=(?P<rss>\d*)MB")
START = re.compile(r"^(?P<stamp>\S+) start (?P<piece>[^\s:]+(?::\S+)?): ")
RECORD = re.compile(r"^(\[[^\]]*\])?\s*(INFO|WARNING|ERROR|DEBUG)\s+")
LOCATION = re.compile(r"\s+[\w.]+\.py:\d+$")
TOOK = re.compile(r"^node(?P<node>\S+?)took(?P<seconds>[\d.]+)s")   # matched with spaces removed
# "cnn_mel (mel_3s): 3/9 done (holdout ..."; logs written before progress_label show
# "mlp_nadam3 [30s]:", or "cnn_mel :" where rich took "[mel_3s]" for markup and dropped it
DONE = re.compile(r"^(?P<model>[\w.]+) (?:\((?P<features>[^)]+)\)|\[(?P<bracketed>[^\]]+)\])?\s*: "
                  r"(?P<k>\d+)/(?P<n>\d+) done \((?P<protocol>\w+) ")
DONE_EPOCHS = re.compile(r", (?P<epochs>\d+) epochs, ")
EPOCH = re.compile(r"epoch (?P<e>\d+)/(?P<cap>\d+)")
TRIAL = re.compile(r"^tuned MLP trials: \d+/\d+ done \(trial .*?, (?P<epochs>\d+) epochs,")


def wall_seconds(text: str) -> float:
    """``1:02:03.5`` / ``5:04.72`` (time -v) -> seconds."""
    parts = [float(p) for p in text.split(":")]
    return sum(p * 60 ** i for i, p in enumerate(reversed(parts)))


def records(lines) -> list[str]:
    """Log records with rich's wrapped continuation lines joined back (no location column)."""
    out: list[str] = []
    for raw in lines:
        line = raw.rstrip("\n")
        if RECORD.match(line) and len(line) - len(line.lstrip()) < 25:
            out.append(LOCATION.sub("", RECORD.sub("", line, count=1)).strip())
        elif out and line.startswith(" " * 28):
            piece = LOCATION.sub("", line.strip())
            # a word rich broke mid-way has no space at the break; one it wrapped at a space does
            out[-1] += ("" if out[-1].endswith(("_", ".", "/")) or piece[:1] in "._/" else " ") + piece
    return out


def models_in(log: Path) -> dict[str, dict]:
    """Per model node of a piece's log: seconds, splits per protocol, epochs of each fit."""
    found: dict[str, dict] = {}
    epochs_seen, trials = 0, []
    splits: dict[str, dict[str, int]] = defaultdict(dict)
    fits: dict[str, list[int]] = defaultdict(list)
    trial_epochs: dict[str, list[int]] = defaultdict(list)
    for rec in records(log.open(errors="replace")):
        text = re.sub(r"\s+", " ", rec)
        for m in EPOCH.finditer(text):
            epochs_seen = max(epochs_seen, int(m.group("e")))
        if m := TRIAL.match(text):
            trials.append(int(m.group("epochs")))
        if m := DONE.match(text):
            key = m.group("model")
            splits[key][m.group("protocol")] = splits[key].get(m.group("protocol"), 0) + 1
            e = DONE_EPOCHS.search(text)
            epochs = int(e.group("epochs")) if e else epochs_seen
            if epochs:
                fits[key].append(epochs)
            if trials:
                trial_epochs[key] += trials
            epochs_seen, trials = 0, []
        if m := TOOK.match(text.replace(" ", "")):   # node names hold no spaces; rich may break them
            node = m.group("node")
            namespace = node.rsplit(".", 1)[0]
            model = namespace.split(".")[-1]
            found[node] = {"node": node, "model": model, "seconds": float(m.group("seconds")),
                           "splits": dict(splits.pop(model, {})), "epochs": fits.pop(model, []),
                           "trial_epochs": trial_epochs.pop(model, [])}
    return found


def _epochs(values: list[int]) -> str:
    if not values:
        return "-"
    return f"{min(values)}-{max(values)} (mean {sum(values) / len(values):.0f})" if min(values) != max(values) else str(values[0])


def table(root: Path, min_seconds: float = 5.0) -> list[dict]:
    rows = []
    log = root / "logs" / "rehearsal.log"
    if not log.exists():
        raise SystemExit(f"{log} does not exist: run `make rehearsal` first")
    lines = log.read_text().splitlines()
    runs: dict[str, list[dict | None]] = {}   # per piece, in order: its end line, or None
    for line in lines:
        if m := START.match(line):
            runs.setdefault(m.group("piece"), []).append({"start": m.group("stamp")})
        elif (m := END.match(line)) and runs.get(m.group("piece")):
            runs[m.group("piece")][-1].update(m.groupdict())
    for piece, piece_runs in runs.items():
        stem = piece.replace(":", "__").replace(",", "__")
        # each run's log: scripts/rehearsal.sh keeps an earlier run's as <piece>.run<k>.log
        nodes: dict[str, dict] = {}
        first_row = len(rows)   # this piece's run rows start here
        for n, run in enumerate(piece_runs):
            label = piece + ("" if len(piece_runs) == 1 else f" (run {n + 1} of {len(piece_runs)})")
            run_log = root / "logs" / (f"{stem}.log" if n == len(piece_runs) - 1 else f"{stem}.run{n + 1}.log")
            run_nodes = models_in(run_log) if run_log.exists() else {}
            nodes.update(run_nodes)   # a model node counted once, from the latest run that finished it
            # a stopped or failed run's time is lost but for the nodes it finished (done again on resume)
            kept = sum(node["seconds"] for node in run_nodes.values())
            if "wall" in run:
                start, end = _stamp(run["start"]), _stamp(run["stamp"])
                wall = wall_seconds(run["wall"]) if run["wall"] else end - start
                rows.append({"piece": label, "model": "(whole piece)", "wall": format_duration(wall),
                             "start": start, "end": end, "wall_s": wall,
                             # (rehearsal.sh sums no CPU lines to 0 when time -v wrote none)
                             "cpu_s": int(run["cpu"]) if run["wall"] and run["cpu"] else "",
                             "peak_rss_mb": int(run["rss"]) if run["wall"] and run["rss"] else "",
                             "splits": "", "epochs": "",
                             "rc": int(run["rc"]), "lost_s": 0.0 if int(run["rc"]) == 0 else max(wall - kept, 0.0)})
                continue
            # no end line: still running (the last line of the log) or stopped; its wall time
            # until its log was last written
            # (with pieces run side by side the last line may be another's: a latest run whose
            # log was written in the last 20 min counts as running too)
            running = n == len(piece_runs) - 1 and (
                lines[-1].startswith(f"{run['start']} start {piece}:")
                or (run_log.exists() and time.time() - run_log.stat().st_mtime < 20 * 60))
            if run_log.exists():
                seconds = run_log.stat().st_mtime - _stamp(run["start"])
                rows.append({"piece": label, "model": "(running)" if running else "(stopped: no end line)",
                             "start": _stamp(run["start"]), "end": run_log.stat().st_mtime,
                             "wall": f"{format_duration(seconds)} so far" if running else f">= {format_duration(seconds)}",
                             "wall_s": seconds, "cpu_s": "", "peak_rss_mb": "", "splits": "", "epochs": "",
                             "rc": "", "lost_s": 0.0 if running else max(seconds - kept, 0.0)})
        # a piece measured again after a run that finished (new code, a check): only its last
        # finished run counts in the totals, the earlier ones are shown as superseded
        done = [r for r in rows[first_row:] if r["rc"] == 0]
        for r in done[:-1]:
            r["superseded"] = True
            r["model"] = "(whole piece, superseded by a later run)"
        if nodes:
            for node in nodes.values():
                if node["seconds"] < min_seconds:
                    continue
                splits = "+".join(str(v) for v in node["splits"].values()) or ""
                epochs = _epochs(node["epochs"])
                if node["trial_epochs"]:
                    epochs += f"; {len(node['trial_epochs'])} trials, {sum(node['trial_epochs'])} epochs"
                rows.append({"piece": piece, "model": node["node"], "wall": format_duration(node["seconds"]),
                             "start": "", "end": "",
                             "wall_s": node["seconds"], "cpu_s": "", "peak_rss_mb": "", "splits": splits,
                             "epochs": epochs, "rc": "", "lost_s": 0.0})
    return rows


def _stamp(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


def _pieces(rows: list[dict]) -> list[dict]:
    """The pieces' run rows that make up one run: not sample_data, not superseded runs."""
    return [r for r in rows if r["model"].startswith("(") and not r["piece"].startswith("sample_data")
            and not r.get("superseded")]


def beside(rows: list[dict]) -> tuple[float, list[tuple[str, str]]]:
    """The clock time the pieces covered (their runs' union) and each pair of runs that overlapped:
    two pieces run at once share the cores, so each one's wall time is longer than alone, and the sum
    of wall times overstates a one-after-another run (the clock time understates it)."""
    runs = sorted(_pieces(rows), key=lambda r: r["start"])
    pairs = [(a["piece"], b["piece"]) for i, a in enumerate(runs) for b in runs[i + 1:]
             if b["start"] < a["end"] - 1]   # end and start stamps share a second between pieces
    clock, reach = 0.0, float("-inf")
    for r in runs:
        clock += max(r["end"] - max(r["start"], reach), 0.0)
        reach = max(reach, r["end"])
    return clock, pairs


def totals(rows: list[dict]) -> tuple[float, float]:
    """The pieces' wall time and the part of it lost to stopped or failed runs (done again on resume);
    sample_data, which writes the synthetic corpus, left out (a real run starts from files)."""
    pieces = _pieces(rows)
    return sum(r["wall_s"] for r in pieces), sum(r["lost_s"] for r in pieces)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", nargs="?", default="data/rehearsal", type=Path)
    parser.add_argument("--format", choices=["markdown", "csv"], default="markdown")
    parser.add_argument("--min-seconds", type=float, default=5.0, help="leave out faster nodes")
    args = parser.parse_args(argv)
    rows = table(args.root, args.min_seconds)
    if args.format == "csv":
        import csv

        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else ["piece"])
        writer.writeheader()
        writer.writerows(rows)
        return 0
    print("| piece | model node | wall | user+sys CPU | peak RSS | splits | epochs run per fit |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        cpu = f"{r['cpu_s']} s" if r["cpu_s"] != "" else ""
        rss = f"{r['peak_rss_mb']} MB" if r["peak_rss_mb"] != "" else ""
        wall = f"**{r['wall']}**" if r["model"].startswith("(") else r["wall"]
        print(f"| {r['piece']} | {r['model']} | {wall} | {cpu} | {rss} | {r['splits']} | {r['epochs']} |")
    total, lost = totals(rows)
    print(f"\nPieces so far, sample_data (the synthetic corpus) left out: {format_duration(total)} of wall time", end="")
    if lost:
        print(f", of which {format_duration(lost)} was lost to stopped or failed runs (the node each was in "
              f"when it stopped, done again on resume): {format_duration(total - lost)} without them.")
    else:
        print(".")
    clock, pairs = beside(rows)
    if pairs:
        print("Pieces that ran at the same time, sharing the 2 cores (each slower for it, so their summed wall "
              "time overstates running them one after the other): "
              + "; ".join(f"{a} beside {b}" for a, b in pairs)
              + f". The pieces covered {format_duration(clock)} of clock time.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
