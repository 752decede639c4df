"""Schema check and repair of a PRSA table: a damaged file becomes a regular hourly
series plus a data-quality report, instead of a crash or a silent drop."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from gtzan_kedro.pm25 import PRSA_COLUMNS, WIND_DIRECTIONS

logger = logging.getLogger(__name__)

TARGET = "pm2.5"
TIME_COLUMNS = ["year", "month", "day", "hour"]
NUMERIC_INPUTS = ["DEWP", "TEMP", "PRES", "Iws", "Is", "Ir"]
QUALITY_COLUMNS = ["check", "count", "action", "examples"]


class PRSASchemaError(ValueError):
    """The table lacks PRSA columns; nothing sensible can be forecast from it."""


def check_schema(raw: pd.DataFrame, source: str) -> None:
    """Raise a PRSASchemaError naming ``source`` and every missing column."""
    required = [c for c in PRSA_COLUMNS if c != "No"]  # "No" is a row counter, never used
    missing = [c for c in required if c not in raw.columns]
    if missing:
        raise PRSASchemaError(
            f"{source}: missing PRSA column(s) {missing}; expected the UCI Beijing PM2.5 layout "
            f"{PRSA_COLUMNS} (found {list(raw.columns)})"
        )


def _examples(rows: pd.Index | np.ndarray, limit: int = 5) -> str:
    """A few CSV line numbers (header = line 1) for the report."""
    rows = list(rows)[:limit]
    return " ".join(str(int(r) + 2) for r in rows) if rows else ""


def _run_lengths(mask: pd.Series) -> pd.Series:
    """For each element, the length of the run of equal ``mask`` values it sits in."""
    runs = (mask != mask.shift()).cumsum()
    return mask.groupby(runs).transform("size")


def clean_prsa(raw: pd.DataFrame, source: str, max_gap_hours: int = 24) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Turn a raw PRSA table into a gap-free hourly frame and a data-quality report.

    The frame is indexed by hourly ``timestamp`` and holds ``pm2.5`` (observed targets only,
    NaN where missing), ``pm2.5_filled`` (the input copy, short gaps interpolated), the
    inputs with short gaps filled, and the flags ``target_observed`` and ``input_imputed``.
    Input gaps longer than ``max_gap_hours`` stay NaN, so no window spanning them is used.
    """
    check_schema(raw, source)
    frame = raw.reset_index(drop=True).copy()
    report: list[dict] = []

    def note(check: str, rows, action: str) -> None:
        rows = list(rows)
        report.append({"check": check, "count": len(rows), "action": action, "examples": _examples(rows)})
        if rows:
            logger.warning("%s: %d row(s) with %s (%s); CSV lines e.g. %s", source, len(rows), check,
                           action, _examples(rows))

    report.append({"check": "rows_read", "count": len(frame), "action": "", "examples": ""})

    # Timestamps: a row whose time cannot be read cannot be placed in the series.
    parts = {c: pd.to_numeric(frame[c], errors="coerce") for c in TIME_COLUMNS}
    stamp = pd.to_datetime(
        pd.DataFrame({"year": parts["year"], "month": parts["month"], "day": parts["day"],
                      "hour": parts["hour"]}),
        errors="coerce",
    )
    out_of_range = (parts["hour"] < 0) | (parts["hour"] > 23) | (parts["hour"] % 1 != 0)
    bad_time = stamp.isna() | out_of_range
    note("unreadable_or_impossible_timestamp", frame.index[bad_time], "row dropped")

    # Non-numeric values become NaN and are then handled as gaps, not as garbage numbers.
    for column in [TARGET, *NUMERIC_INPUTS]:
        original = frame[column]
        values = pd.to_numeric(original, errors="coerce")
        garbage = values.isna() & original.notna() & ~bad_time
        note(f"non_numeric_{column}", frame.index[garbage], "set to missing")
        frame[column] = values.astype(float)
    negative = (frame[TARGET] < 0) & ~bad_time
    note("negative_pm2.5", frame.index[negative], "set to missing")
    frame.loc[negative, TARGET] = np.nan

    direction = frame["cbwd"].astype("string").str.strip()
    unknown = ~direction.isin(WIND_DIRECTIONS) & ~bad_time
    note("unknown_cbwd", frame.index[unknown], "set to missing (known: " + " ".join(WIND_DIRECTIONS) + ")")
    frame["cbwd"] = direction.where(~unknown).astype(object)

    frame["timestamp"] = stamp
    frame = frame.loc[~bad_time]

    out_of_order = int((frame["timestamp"].diff() < pd.Timedelta(0)).sum())
    report.append({"check": "rows_out_of_order", "count": out_of_order, "action": "sorted", "examples": ""})
    frame = frame.sort_values("timestamp", kind="stable")

    duplicated = frame["timestamp"].duplicated(keep="first")
    note("duplicate_hour", frame.index[duplicated], "later copy dropped")
    frame = frame.loc[~duplicated].set_index("timestamp")

    if frame.empty:
        raise PRSASchemaError(f"{source}: no row has a readable timestamp")
    hours = pd.date_range(frame.index.min(), frame.index.max(), freq="h", name="timestamp")
    n_missing_hours = len(hours) - len(frame)
    frame = frame.reindex(hours)
    inserted = frame[TIME_COLUMNS[0]].isna()
    report.append({"check": "missing_hour", "count": int(n_missing_hours), "action": "inserted as gap",
                   "examples": " ".join(str(t) for t in frame.index[inserted][:5])})
    if n_missing_hours:
        logger.warning("%s: %d hour(s) absent from the file, inserted as gaps", source, n_missing_hours)

    target_observed = frame[TARGET].notna()
    report.append({"check": "missing_pm2.5_target", "count": int((~target_observed).sum()),
                   "action": "never scored or trained on", "examples": ""})

    # Gap policy: short input gaps are interpolated (a sensor outage of a few hours), long
    # ones are left empty so that no training or test window is built across them.
    frame["pm2.5_filled"] = frame[TARGET]
    imputed = pd.Series(False, index=frame.index)
    long_gap_hours = 0
    for column in ["pm2.5_filled", *NUMERIC_INPUTS]:
        missing = frame[column].isna()
        too_long = missing & (_run_lengths(missing) > max_gap_hours)
        filled = frame[column].interpolate(method="linear", limit_area="inside")
        frame[column] = filled.where(~too_long)
        imputed |= missing & frame[column].notna()
        long_gap_hours = max(long_gap_hours, int(too_long.sum()))
    missing_dir = frame["cbwd"].isna()
    too_long_dir = missing_dir & (_run_lengths(missing_dir) > max_gap_hours)
    frame["cbwd"] = frame["cbwd"].ffill().where(~too_long_dir)
    imputed |= missing_dir & frame["cbwd"].notna()
    report.append({"check": "input_hours_imputed", "count": int(imputed.sum()),
                   "action": f"interpolated (gaps <= {max_gap_hours} h)", "examples": ""})
    report.append({"check": "input_hours_in_long_gaps", "count": long_gap_hours,
                   "action": f"left missing (gaps > {max_gap_hours} h); windows across them skipped",
                   "examples": ""})

    frame["target_observed"] = target_observed
    frame["input_imputed"] = imputed
    for column, values in (("year", frame.index.year), ("month", frame.index.month),
                           ("day", frame.index.day), ("hour", frame.index.hour)):
        frame[column] = values
    frame = frame.drop(columns=["No"], errors="ignore")
    report.append({"check": "hours_in_series", "count": len(frame), "action": "", "examples": ""})
    logger.info("%s: %d hours from %s to %s, %d missing targets, %d imputed input hours", source,
                len(frame), frame.index.min(), frame.index.max(), int((~target_observed).sum()),
                int(imputed.sum()))
    return frame, pd.DataFrame(report, columns=QUALITY_COLUMNS)
