"""A synthetic hourly table in the UCI PRSA format, so the forecasting pipeline runs
(and is tested) without the real Beijing file."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gtzan_kedro.pm25 import PRSA_COLUMNS

# Per-direction hourly clearance rate of the PM2.5 box model and wind speed (m/s):
# calm air (cv) and the humid SE flow let pollution build up, the dry NW flow clears it.
_DIRECTIONS = np.array(["NW", "NE", "SE", "cv"])
_CLEARANCE = np.array([0.09, 0.03, 0.010, 0.006])
_SPEED = np.array([4.0, 2.5, 2.0, 0.89])
_TEMP_OFFSET = np.array([-2.0, -0.5, 1.0, 0.0])
_DEWP_OFFSET = np.array([-6.0, -1.0, 3.0, 1.0])


def _ar1(rng: np.random.Generator, n: int, phi: float, sigma: float) -> np.ndarray:
    """Stationary AR(1) noise via an IIR filter (a Python loop would be 40x slower)."""
    from scipy.signal import lfilter

    shocks = rng.normal(0.0, sigma * np.sqrt(1 - phi**2), n)
    shocks[0] = rng.normal(0.0, sigma)
    return lfilter([1.0], [1.0, -phi], shocks)


def _run_ids(values: np.ndarray) -> np.ndarray:
    """Index of the run of equal consecutive values each element belongs to."""
    return np.concatenate([[0], np.cumsum(values[1:] != values[:-1])])


def _cumulate_within_runs(increment: np.ndarray, runs: np.ndarray) -> np.ndarray:
    """Running sum of ``increment`` that restarts at every new run (PRSA's Iws/Is/Ir)."""
    total = np.cumsum(increment)
    starts = np.r_[True, runs[1:] != runs[:-1]]
    offset = np.maximum.accumulate(np.where(starts, np.arange(len(runs)), 0))
    return total - total[offset] + increment[offset]


def _box_model(decay: np.ndarray, emission: np.ndarray, level: float, block: int = 64) -> np.ndarray:
    """``c_t = decay_t * c_{t-1} + emission_t`` solved in closed form block by block
    (c_t = P_t (c_0 + sum e_s / P_s) with P the running product of decay): a plain loop over
    44k hours takes seconds; blocks keep P far from underflow (decay >= 0.5)."""
    out = np.empty(len(decay))
    for start in range(0, len(decay), block):
        stop = min(start + block, len(decay))
        running = np.cumprod(decay[start:stop])
        out[start:stop] = running * (level + np.cumsum(emission[start:stop] / running))
        level = out[stop - 1]
    return out


def synthetic_prsa(seed: int = 0, start: str = "2010-01-01", end: str = "2014-12-31") -> pd.DataFrame:
    """Hourly PRSA-format frame (columns as the UCI file) with seasonal, diurnal and
    wind-driven PM2.5, and ~5 % of pm2.5 missing in gaps of realistic lengths."""
    rng = np.random.default_rng(seed)
    times = pd.date_range(pd.Timestamp(start), pd.Timestamp(end) + pd.Timedelta(hours=23), freq="h")
    n = len(times)
    doy = times.dayofyear.to_numpy()
    hour = times.hour.to_numpy()
    season = np.cos(2 * np.pi * (doy - 15) / 365.25)  # +1 mid-January, -1 mid-July

    # Wind regimes last hours to days; NW dominates winter, SE summer.
    n_runs = n // 3 + 10
    lengths = rng.geometric(1 / 12, n_runs)
    run_start = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    run_start = run_start[run_start < n]
    run_season = season[run_start]
    # A slow synoptic index (cold-air outbreaks vs stagnant spells) shifts the odds too.
    synoptic = _ar1(rng, n, 0.995, 1.0)[run_start]
    p = np.stack([0.30 + 0.12 * run_season + 0.15 * synoptic, 0.12 + 0.0 * run_season,
                  0.33 - 0.12 * run_season - 0.08 * synoptic, 0.25 - 0.07 * synoptic], axis=1)
    p = np.clip(p, 0.02, None)
    p /= p.sum(axis=1, keepdims=True)
    run_dir = (rng.random(len(run_start))[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
    direction = np.repeat(run_dir, np.diff(np.r_[run_start, n]))
    runs = _run_ids(direction)  # back-to-back regimes of one direction are one run

    gust = np.exp(_ar1(rng, n, 0.8, 0.35))
    speed = np.where(direction == 3, 0.89, _SPEED[direction] * gust * (1 + 0.3 * np.sin(2 * np.pi * (hour - 8) / 24)))
    speed = np.round(np.maximum(speed, 0.45), 2)
    iws = np.round(_cumulate_within_runs(speed, runs), 2)

    temp = (12.5 - 15.5 * season + 4.0 * np.sin(2 * np.pi * (hour - 9) / 24)
            + _TEMP_OFFSET[direction] + _ar1(rng, n, 0.97, 3.0))
    dewp = 2.0 - 17.0 * season + _DEWP_OFFSET[direction] + _ar1(rng, n, 0.98, 5.0)
    dewp = np.minimum(dewp, temp)
    pres = 1016.0 + 12.0 * season + 2.0 * (direction == 0) + _ar1(rng, n, 0.995, 5.0)

    # Precipitation events: humid hours fall wet; snow below freezing, rain above.
    wet = (_ar1(rng, n, 0.9, 1.0) + 0.08 * (dewp - temp) > 1.6) & (direction != 0)
    snowing, raining = wet & (temp < 0), wet & (temp >= 0)
    snow = np.where(snowing, _cumulate_within_runs(snowing.astype(float), _run_ids(snowing)), 0).astype(int)
    rain = np.where(raining, _cumulate_within_runs(raining.astype(float), _run_ids(raining)), 0).astype(int)

    # Box model: c_t = c_{t-1} (1 - k_t) + e_t.
    heating = 1.0 + 1.1 * np.clip(season, 0, None)
    diurnal = 1.0 + 0.25 * np.cos(2 * np.pi * (hour - 22) / 24)
    emission = 2.2 * heating * diurnal * np.exp(_ar1(rng, n, 0.9, 0.6))
    clearance = np.minimum(_CLEARANCE[direction] * (1 + 0.15 * (direction <= 1) * np.minimum(iws, 150) ** 0.5) + 0.04 * wet, 0.5)
    conc = _box_model(1.0 - clearance, emission, level=80.0)
    pm = np.round(np.clip(conc * np.exp(rng.normal(0, 0.07, n)), 1, 990))

    pm[:24] = np.nan
    target_missing = int(0.047 * n)
    while np.isnan(pm).sum() < target_missing:
        length = 1 if rng.random() < 0.55 else int(min(rng.geometric(1 / 18), 160))
        first = rng.integers(24, n - length)
        pm[first:first + length] = np.nan

    frame = pd.DataFrame({
        "No": np.arange(1, n + 1),
        "year": times.year, "month": times.month, "day": times.day, "hour": hour,
        "pm2.5": pm,
        "DEWP": np.round(dewp).astype(int),
        "TEMP": np.round(temp) + 0.0,
        "PRES": np.round(pres).astype(float),
        "cbwd": _DIRECTIONS[direction],
        "Iws": iws,
        "Is": snow,
        "Ir": rain,
    })
    return frame[PRSA_COLUMNS]
