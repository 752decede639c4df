"""pm25_forecast: clean -> features -> split -> baselines and LSTMs -> metrics and plots."""

from kedro.pipeline import Pipeline, node, pipeline

from gtzan_kedro.pipelines.pm25_forecast.nodes import (
    baseline_forecasts,
    build_pm25_features,
    clean_pm25,
    ensemble_forecasts,
    plot_pm25_forecasts,
    score_forecasts,
    split_pm25,
    train_lstm_forecaster,
)

# Each LSTM is the same template under its own namespace (kedro-viz collapses them).
LSTM_MODELS = ("report_lstm_11", "report_lstm_6", "strong_lstm", "strong_lstm_dynamic", "strong_lstm_target_weather")


def _lstm_template() -> Pipeline:
    return pipeline([
        node(train_lstm_forecaster, ["pm25_features", "pm25_split", "params:pm25_forecast", "params:lstm"],
             "pm25_predictions", name="train_lstm_forecaster"),
    ])


def create_pipeline(**kwargs) -> Pipeline:
    """The whole PM2.5 forecasting pipeline on the core ``pm25_raw`` table."""
    prepare = pipeline([
        node(clean_pm25, ["pm25_raw", "params:pm25_forecast"], ["pm25_hourly", "pm25_data_quality"],
             name="clean_pm25"),
        node(build_pm25_features, "pm25_hourly", "pm25_features", name="build_pm25_features"),
        node(split_pm25, ["pm25_features", "params:pm25_forecast"], "pm25_split", name="split_pm25"),
        node(baseline_forecasts, ["pm25_features", "pm25_split", "params:pm25_forecast"],
             "pm25_baseline_predictions", name="baseline_forecasts"),
    ])
    lstms = [
        pipeline(
            _lstm_template(),
            namespace=name,
            inputs={"pm25_features", "pm25_split"},
            parameters={"params:pm25_forecast": "params:pm25_forecast",
                        "params:lstm": f"params:pm25_forecast.{name}"},
        )
        for name in LSTM_MODELS
    ]
    lstm_predictions = [f"{name}.pm25_predictions" for name in LSTM_MODELS]
    predictions = ["pm25_baseline_predictions", *lstm_predictions, "pm25_ensemble_predictions"]
    report = pipeline([
        node(ensemble_forecasts, ["params:pm25_forecast", "pm25_baseline_predictions", *lstm_predictions],
             "pm25_ensemble_predictions", name="ensemble_forecasts"),
        node(score_forecasts, ["pm25_features", "pm25_split", *predictions],
             ["pm25_metrics", "pm25_validation_metrics"], name="score_forecasts"),
        node(plot_pm25_forecasts, ["pm25_features", "pm25_split", "pm25_metrics", *predictions],
             ["pm25_forecast_plot", "pm25_week_plot", "pm25_error_by_horizon_plot"],
             name="plot_pm25_forecasts"),
    ])
    return prepare + sum(lstms, Pipeline([])) + report
