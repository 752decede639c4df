"""pm25_forecast: clean -> features -> split -> baselines and LSTMs -> metrics and plots.

One kedro-viz group `pm25_forecast`, opening into one `pm25_forecast.<lstm>` box per LSTM of
``pm25_forecast.lstms`` in parameters_pm25_forecast.yml (adding an LSTM is a YAML block)."""

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
from gtzan_kedro.project_parameters import model_names

GROUP = "pm25_forecast"


def _lstm_template(name: str) -> Pipeline:
    """One LSTM's search under ``pm25_forecast.<name>``: forecasts, metrics, models, choices."""
    template = pipeline([
        node(train_lstm_forecaster,
             ["pm25_features", "pm25_split", "params:horizons", "params:feature_sets", "params:seed",
              "params:lstm"],
             ["pm25_predictions", "forecast_metrics", "fitted_models", "tracked_params"],
             name="train_lstm_forecaster"),
    ])
    return pipeline(template, namespace=f"{GROUP}.{name}", inputs={"pm25_features", "pm25_split"},
                    parameters={"params:horizons": "params:pm25_forecast.horizons",
                                "params:feature_sets": "params:pm25_forecast.feature_sets",
                                "params:seed": "params:pm25_forecast.seed",
                                "params:lstm": f"params:pm25_forecast.lstms.{name}"})


def create_pipeline(**kwargs) -> Pipeline:
    """The whole PM2.5 forecasting pipeline on the core ``pm25_raw`` table."""
    lstms = model_names(GROUP, "lstms")
    # node namespaces only (dataset names stay): kedro-viz shows them inside the group
    prepare = Pipeline([
        node(clean_pm25, ["pm25_raw", "params:pm25_forecast"], ["pm25_hourly", "pm25_data_quality"],
             name="clean_pm25"),
        node(build_pm25_features, "pm25_hourly", "pm25_features", name="build_pm25_features"),
        node(split_pm25, ["pm25_features", "params:pm25_forecast"], "pm25_split", name="split_pm25"),
    ], namespace=GROUP, prefix_datasets_with_namespace=False)
    baselines = Pipeline([
        node(baseline_forecasts, ["pm25_features", "pm25_split", "params:pm25_forecast"],
             ["pm25_baseline_predictions", f"{GROUP}.baselines.forecast_metrics"],
             name="baseline_forecasts"),
    ], namespace=f"{GROUP}.baselines", prefix_datasets_with_namespace=False)
    lstm_predictions = [f"{GROUP}.{name}.pm25_predictions" for name in lstms]
    ensemble = Pipeline([
        node(ensemble_forecasts, ["params:pm25_forecast.ensemble", "pm25_baseline_predictions", *lstm_predictions],
             ["pm25_ensemble_predictions", f"{GROUP}.ensemble.tracked_params"],
             name="ensemble_forecasts"),
    ], namespace=f"{GROUP}.ensemble", prefix_datasets_with_namespace=False)
    predictions = ["pm25_baseline_predictions", *lstm_predictions, "pm25_ensemble_predictions"]
    report = Pipeline([
        node(score_forecasts, ["pm25_features", "pm25_split", *predictions],
             ["pm25_metrics", "pm25_validation_metrics"], name="score_forecasts"),
        node(plot_pm25_forecasts, ["pm25_features", "pm25_split", "pm25_metrics", *predictions],
             ["pm25_forecast_plot", "pm25_week_plot", "pm25_error_by_horizon_plot",
              "pm25_plots_written"],
             name="plot_pm25_forecasts"),
    ], namespace=GROUP, prefix_datasets_with_namespace=False)
    return prepare + baselines + sum((_lstm_template(name) for name in lstms), Pipeline([])) + ensemble + report
