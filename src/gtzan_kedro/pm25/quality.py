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


class _QualityReport:
    """The data-quality rows of one cleaning; a check that finds rows also logs a warning."""

    def __init__(self, source: str):
        self.source = source
        self.rows: list[dict] = []

    def count(self, check: str, count: int, action: str = "", examples: str = "") -> None:
        """Record a check with its count."""
        self.rows.append({"check": check, "count": count, "action": action, "examples": examples})

    def flag(self, check: str, rows, action: str) -> None:
        """Record the rows a check found (their CSV lines as examples) and warn if any."""
        rows = list(rows)
        self.count(check, len(rows), action, _examples(rows))
        if rows:
            logger.warning("%s: %d row(s) with %s (%s); CSV lines e.g. %s", self.source, len(rows), check,
                           action, _examples(rows))

    def table(self) -> pd.DataFrame:
        """The report as a DataFrame of QUALITY_COLUMNS."""
        return pd.DataFrame(self.rows, columns=QUALITY_COLUMNS)


def _timestamps(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Each row's hourly timestamp, and which rows' time cannot be read or is impossible."""
    parts = {c: pd.to_numeric(frame[c], errors="coerce") for c in TIME_COLUMNS}
    stamp = pd.to_datetime(
        pd.DataFrame({"year": parts["year"], "month": parts["month"], "day": parts["day"],
                      "hour": parts["hour"]}),
        errors="coerce",
    )
    out_of_range = (parts["hour"] < 0) | (parts["hour"] > 23) | (parts["hour"] % 1 != 0)
    return stamp, stamp.isna() | out_of_range


def _coerce_values(frame: pd.DataFrame, bad_time: pd.Series, report: _QualityReport) -> None:
    """Set non-numeric values, negative PM2.5 and unknown wind directions to missing, in place."""
    # Non-numeric values become NaN and are then handled as gaps, not as garbage numbers.
    for column in [TARGET, *NUMERIC_INPUTS]:
        original = frame[column]
        values = pd.to_numeric(original, errors="coerce")
        garbage = values.isna() & original.notna() & ~bad_time
        report.flag(f"non_numeric_{column}", frame.index[garbage], "set to missing")
        frame[column] = values.astype(float)
    negative = (frame[TARGET] < 0) & ~bad_time
    report.flag("negative_pm2.5", frame.index[negative], "set to missing")
    frame.loc[negative, TARGET] = np.nan

    direction = frame["cbwd"].astype("string").str.strip()
    unknown = ~direction.isin(WIND_DIRECTIONS) & ~bad_time
    report.flag("unknown_cbwd", frame.index[unknown], "set to missing (known: " + " ".join(WIND_DIRECTIONS) + ")")
    frame["cbwd"] = direction.where(~unknown).astype(object)


def _hourly_series(frame: pd.DataFrame, stamp: pd.Series, bad_time: pd.Series,
                   report: _QualityReport) -> pd.DataFrame:
    """The readable rows sorted by time, one per hour, absent hours inserted as empty rows."""
    source = report.source
    frame["timestamp"] = stamp
    frame = frame.loc[~bad_time]

    out_of_order = int((frame["timestamp"].diff() < pd.Timedelta(0)).sum())
    report.count("rows_out_of_order", out_of_order, "sorted")
    frame = frame.sort_values("timestamp", kind="stable")

    duplicated = frame["timestamp"].duplicated(keep="first")
    report.flag("duplicate_hour", frame.index[duplicated], "later copy dropped")
    frame = frame.loc[~duplicated].set_index("timestamp")

    if frame.empty:
        raise PRSASchemaError(f"{source}: no row has a readable timestamp")
    hours = pd.date_range(frame.index.min(), frame.index.max(), freq="h", name="timestamp")
    n_missing_hours = len(hours) - len(frame)
    frame = frame.reindex(hours)
    inserted = frame[TIME_COLUMNS[0]].isna()
    report.count("missing_hour", int(n_missing_hours), "inserted as gap",
                 " ".join(str(t) for t in frame.index[inserted][:5]))
    if n_missing_hours:
        logger.warning("%s: %d hour(s) absent from the file, inserted as gaps", source, n_missing_hours)
    return frame


def _fill_short_gaps(frame: pd.DataFrame, max_gap_hours: int) -> tuple[pd.Series, int]:
    """Interpolate input gaps up to ``max_gap_hours`` in place; longer ones stay empty.

    Returns which hours were imputed and the most hours any one input spent in long gaps.
    """
    # A sensor outage of a few hours is interpolated; a long one is left empty so that no
    # training or test window is built across it.
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
    return imputed, long_gap_hours


def clean_prsa(raw: pd.DataFrame, source: str, max_gap_hours: int = 24) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Turn a raw PRSA table into a gap-free hourly frame and a data-quality report.

    The frame is indexed by hourly ``timestamp`` and holds ``pm2.5`` (observed targets only,
    NaN where missing), ``pm2.5_filled`` (the input copy, short gaps interpolated), the
    inputs with short gaps filled, and the flags ``target_observed`` and ``input_imputed``.
    Input gaps longer than ``max_gap_hours`` stay NaN, so no window spanning them is used.
    """
    check_schema(raw, source)
    frame = raw.reset_index(drop=True).copy()
    report = _QualityReport(source)
    report.count("rows_read", len(frame))

    # A row whose time cannot be read cannot be placed in the series.
    stamp, bad_time = _timestamps(frame)
    report.flag("unreadable_or_impossible_timestamp", frame.index[bad_time], "row dropped")
    _coerce_values(frame, bad_time, report)
    frame = _hourly_series(frame, stamp, bad_time, report)

    target_observed = frame[TARGET].notna()
    report.count("missing_pm2.5_target", int((~target_observed).sum()), "never scored or trained on")
    imputed, long_gap_hours = _fill_short_gaps(frame, max_gap_hours)
    report.count("input_hours_imputed", int(imputed.sum()), f"interpolated (gaps <= {max_gap_hours} h)")
    report.count("input_hours_in_long_gaps", long_gap_hours,
                 f"left missing (gaps > {max_gap_hours} h); windows across them skipped")

    frame["target_observed"] = target_observed
    frame["input_imputed"] = imputed
    for column, values in (("year", frame.index.year), ("month", frame.index.month),
                           ("day", frame.index.day), ("hour", frame.index.hour)):
        frame[column] = values
    frame = frame.drop(columns=["No"], errors="ignore")
    report.count("hours_in_series", len(frame))
    logger.info("%s: %d hours from %s to %s, %d missing targets, %d imputed input hours", source,
                len(frame), frame.index.min(), frame.index.max(), int((~target_observed).sum()),
                int(imputed.sum()))
    return frame, report.table()
