"""The synthetic PRSA sample and the repair of damaged PRSA tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gtzan_kedro.pm25 import PRSA_COLUMNS
from gtzan_kedro.pm25.quality import PRSASchemaError, check_schema, clean_prsa
from gtzan_kedro.pm25.synth import synthetic_prsa


@pytest.fixture(scope="module")
def five_years() -> pd.DataFrame:
    return synthetic_prsa(seed=0)


def test_synthetic_prsa_has_the_uci_layout(five_years):
    assert list(five_years.columns) == PRSA_COLUMNS
    assert len(five_years) == 43824  # 2010-01-01 00:00 .. 2014-12-31 23:00
    assert set(five_years["cbwd"]) == {"NW", "NE", "SE", "cv"}
    assert five_years["No"].tolist() == list(range(1, len(five_years) + 1))
    assert five_years["hour"].between(0, 23).all()
    assert (five_years[["Iws", "Is", "Ir"]] >= 0).all().all()
    assert (five_years["pm2.5"].dropna() > 0).all()
    assert 0.03 < five_years["pm2.5"].isna().mean() < 0.07


def test_synthetic_prsa_cumulated_columns_reset_when_the_wind_turns(five_years):
    same_direction = five_years["cbwd"].eq(five_years["cbwd"].shift())
    iws_step = five_years["Iws"].diff()
    assert (iws_step[same_direction] > 0).all()
    # A new direction starts from one hour's wind, not from the previous run's total.
    assert (five_years.loc[~same_direction, "Iws"] < 20).all()
    assert five_years.loc[~same_direction, "Iws"].median() < five_years["Iws"].median()
    for column in ("Is", "Ir"):
        hours = five_years[column]
        wet, continuing = hours > 0, (hours > 0) & (hours.shift() > 0)
        assert wet.any()
        assert (hours.diff()[continuing] == 1).all()
        assert (hours[wet & ~continuing] == 1).all()


def test_synthetic_prsa_is_wind_driven_and_seasonal(five_years):
    by_wind = five_years.groupby("cbwd")["pm2.5"].mean()
    assert by_wind["NW"] < by_wind["SE"] and by_wind["NW"] < by_wind["cv"]
    winter = five_years[five_years["month"].isin([12, 1, 2])]
    summer = five_years[five_years["month"].isin([6, 7, 8])]
    assert winter["TEMP"].mean() < summer["TEMP"].mean() - 20
    assert winter["DEWP"].mean() < summer["DEWP"].mean() - 20
    assert winter["pm2.5"].mean() > summer["pm2.5"].mean()


def test_synthetic_prsa_is_reproducible():
    a = synthetic_prsa(seed=3, start="2012-01-01", end="2012-01-31")
    b = synthetic_prsa(seed=3, start="2012-01-01", end="2012-01-31")
    c = synthetic_prsa(seed=4, start="2012-01-01", end="2012-01-31")
    pd.testing.assert_frame_equal(a, b)
    assert not a["pm2.5"].equals(c["pm2.5"])
    assert len(a) == 31 * 24


def test_missing_columns_name_the_file_and_the_columns():
    raw = synthetic_prsa(start="2012-01-01", end="2012-01-02").drop(columns=["DEWP", "cbwd"])
    with pytest.raises(PRSASchemaError, match=r"broken\.csv.*DEWP.*cbwd"):
        check_schema(raw, "broken.csv")
    with pytest.raises(PRSASchemaError, match="broken.csv"):
        clean_prsa(raw, "broken.csv")


def _damaged() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ten clean days, then: 3 hours deleted, a duplicate hour, a garbage row, an impossible date."""
    clean = synthetic_prsa(seed=1, start="2013-03-01", end="2013-03-10")
    clean["pm2.5"] = clean["pm2.5"].fillna(50.0)
    raw = clean.drop(index=[100, 101, 102]).astype({"pm2.5": object, "TEMP": object, "cbwd": object})
    duplicate = raw.loc[[50]]
    garbage = raw.loc[[60]].copy()
    garbage[["pm2.5", "TEMP", "cbwd"]] = ["n/a!", "hot", "XX"]
    raw = raw.drop(index=[60])
    impossible = raw.loc[[70]].copy()
    impossible[["month", "day"]] = [2, 30]
    raw = pd.concat([raw, duplicate, garbage, impossible]).sample(frac=1.0, random_state=0)
    return clean, raw.reset_index(drop=True)


def test_damaged_input_is_repaired_and_reported(caplog):
    clean, raw = _damaged()
    with caplog.at_level("WARNING"):
        hourly, report = clean_prsa(raw, "damaged.csv", max_gap_hours=6)
    counts = report.set_index("check")["count"]
    assert counts["duplicate_hour"] == 1
    assert counts["missing_hour"] == 3
    assert counts["unreadable_or_impossible_timestamp"] == 1
    assert counts["non_numeric_pm2.5"] == 1 and counts["non_numeric_TEMP"] == 1
    assert counts["unknown_cbwd"] == 1
    assert counts["rows_out_of_order"] > 0
    assert "damaged.csv" in caplog.text and "duplicate_hour" in caplog.text

    expected_hours = pd.date_range("2013-03-01", "2013-03-10 23:00", freq="h")
    assert hourly.index.equals(pd.DatetimeIndex(expected_hours, name="timestamp"))
    # Deleted hours and the garbage value are not targets; their inputs are interpolated.
    lost = clean.index[[100, 101, 102, 60]]
    assert hourly["pm2.5"].iloc[lost].isna().all()
    assert not hourly["target_observed"].iloc[lost].any()
    assert hourly["pm2.5_filled"].iloc[lost].notna().all()
    assert hourly["input_imputed"].iloc[lost].all()
    assert hourly["TEMP"].iloc[60] == pytest.approx((clean["TEMP"][59] + clean["TEMP"][61]) / 2)
    untouched = hourly["target_observed"].to_numpy()
    np.testing.assert_allclose(hourly["pm2.5"].to_numpy()[untouched], clean["pm2.5"].to_numpy()[untouched])


def test_long_input_gaps_stay_missing():
    raw = synthetic_prsa(seed=2, start="2013-03-01", end="2013-03-10")
    raw.loc[24:26, "pm2.5"] = np.nan   # 3 h: interpolated
    raw.loc[100:139, "DEWP"] = np.nan  # 40 h: left missing
    raw.loc[:23, "pm2.5"] = 80.0
    hourly, report = clean_prsa(raw, "gaps.csv", max_gap_hours=24)
    assert hourly["pm2.5_filled"].iloc[24:27].notna().all()
    assert hourly["pm2.5"].iloc[24:27].isna().all()
    assert hourly["DEWP"].iloc[100:140].isna().all()
    assert hourly["DEWP"].iloc[[99, 140]].notna().all()
    assert report.set_index("check").loc["input_hours_in_long_gaps", "count"] >= 40
