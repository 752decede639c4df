"""What a run found, in the terminal: the most accurate rows of the model comparison table and
where report.html is. `make run` ends with it.

    python -m gtzan_kedro.reporting_summary [--top 10] [--protocol holdout]
    gtzan report [--top 10] [--protocol holdout]

It exits 0 when the table is not there yet (a run of pm25_forecast alone has nothing to
compare) and says what to run.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

COMPARISON_CSV = Path("data/08_reporting/model_comparison.csv")
REPORT_HTML = Path("data/08_reporting/report.html")
#: protocols whose accuracy is inflated by design (evaluation.plots.INFLATED_PROTOCOLS)
INFLATED = ("leaky_segments",)


def top_rows(table: pd.DataFrame, top: int = 10, protocol: str | None = None) -> pd.DataFrame:
    """The ``top`` most accurate rows (ties: more splits first), of one protocol when given."""
    if protocol:
        table = table[table["protocol"].astype(str) == protocol]
    ranked = table.sort_values(["accuracy_mean", "n_splits"], ascending=False, kind="stable")
    return ranked.head(top).reset_index(drop=True)


def summary(table_path: Path = COMPARISON_CSV, report_path: Path | None = None, top: int = 10,
            protocol: str | None = None) -> str:
    """The lines the command prints: the top rows as a fixed-width table and the report's path
    (default: report.html beside the table), or what to run when either does not exist yet."""
    table_path = Path(table_path)
    report_path = Path(report_path) if report_path else table_path.with_name(REPORT_HTML.name)
    lines = []
    if not table_path.exists():
        lines.append(f"{table_path} does not exist yet: no model pipeline has run. Run e.g. "
                     "`kedro run --pipeline audio_models_30s`, then `kedro run --pipeline reporting`.")
    else:
        try:
            table = pd.read_csv(table_path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise SystemExit(f"{table_path} is not a readable CSV ({exc}); move it away and re-run "
                             "the model pipelines to rebuild it")
        best = top_rows(table, top, protocol)
        which = f"{protocol} rows" if protocol else "rows"
        if best.empty:
            lines.append(f"{table_path} has no {which} yet.")
        else:
            shown = pd.DataFrame({
                "model": best["model"], "features": best["features"],
                "protocol": [f"{p}*" if p in INFLATED else p for p in best["protocol"].astype(str)],
                "accuracy": [f"{m:.3f} ± {s:.3f}" if n > 1 else f"{m:.3f} ± –"  # one split: no spread
                             for m, s, n in zip(best["accuracy_mean"], best["accuracy_std"], best["n_splits"])],
                "n_splits": best["n_splits"].astype(int),
                "auroc": best["auroc_mean"].map(lambda v: f"{v:.3f}"),
            })
            shown.index = range(1, len(shown) + 1)
            pool = table if not protocol else table[table["protocol"].astype(str) == protocol]
            lines.append(f"Top {len(shown)} of {len(pool)} {which} in {table_path}, by mean test accuracy:")
            lines.append(shown.to_string())
            if any(p in INFLATED for p in best["protocol"].astype(str)):
                lines.append("* leaky_segments is inflated: segments of one track on both sides of the split.")
    if report_path.exists():
        lines.append(f"Report: {report_path.resolve().as_uri()}")
    else:
        lines.append(f"Report: {report_path} not written yet; run `kedro run --pipeline reporting`.")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gtzan_kedro.reporting_summary",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--top", type=int, default=10, help="rows to print (default 10)")
    parser.add_argument("--protocol", default=None, help="only this protocol (e.g. holdout)")
    parser.add_argument("--table", type=Path, default=COMPARISON_CSV, help=f"default {COMPARISON_CSV}")
    parser.add_argument("--report", type=Path, default=None, help="default: report.html beside the table")
    args = parser.parse_args(argv)
    print(summary(args.table, args.report, args.top, args.protocol))
    return 0


if __name__ == "__main__":
    sys.exit(main())
