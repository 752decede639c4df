"""pm25_forecast: PM2.5 forecasting on the UCI Beijing PRSA data (LSTMs and baselines)."""

from gtzan_kedro.pipelines.pm25_forecast.pipeline import create_pipeline

__all__ = ["create_pipeline"]
