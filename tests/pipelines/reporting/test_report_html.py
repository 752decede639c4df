"""report.html: every section, images only as inline PNG data URIs, and "not run yet" where a
pipeline's outputs are absent; its catalog entries load None on an empty project."""

import base64
import io
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest
import yaml
from PIL import Image

from gtzan_kedro.evaluation.report_page import NOT_RUN_YET
from gtzan_kedro.pipelines.reporting.nodes import build_report, leakage_table

REPO_ROOT = Path(__file__).resolve().parents[3]
HEADINGS = ["Model comparison", "Best model per protocol",
            "Leakage: random segment split vs track-grouped holdout", "PM2.5 forecasting",
            "Feature selection", "Explore further: kedro-viz and MLflow"]
PARAMS = yaml.safe_load((REPO_ROOT / "conf/base/parameters_reporting.yml").read_text())["reporting"]


class Page(HTMLParser):
    """Headings, image sources, the tags used and each section's text."""

    def __init__(self, text: str):
        super().__init__()
        self.h2, self.images, self.tags, self.sections = [], [], set(), {}
        self._in_h2, self._section = False, None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.add(tag)
        if tag == "h2":
            self._in_h2 = True
            self.h2.append("")
        if tag == "section":
            self._section = attrs["id"]
            self.sections[self._section] = ""
        if tag == "img":
            self.images.append((attrs.get("src", ""), self._section))
        if tag in ("link", "script") or attrs.get("href", "#").startswith("http"):
            self.tags.add(f"external:{tag}")

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in_h2 = False

    def handle_data(self, data):
        if self._in_h2:
            self.h2[-1] += data
        if self._section:
            self.sections[self._section] += data


def comparison():
    rows = [("svm", "3s", "holdout", 0.70, 5), ("svm", "3s", "leaky_segments", 0.92, 3),
            ("random_forest", "30s", "holdout", 0.74, 5), ("cnn_mel", "mel_30s", "holdout", 0.66, 5),
            ("cnn_mel", "mel_30s", "fault_filtered", 0.55, 1), ("svm", "30s", "fault_filtered", 0.51, 1)]
    return pd.DataFrame([{"model": m, "features": f, "protocol": p, "n_splits": n, "accuracy_mean": a,
                          "accuracy_std": 0.03, "auroc_mean": 0.9, "auprc_mean": 0.7}
                         for m, f, p, a, n in rows])


def picture(color):
    return lambda: Image.new("RGB", (40, 30), color)


def all_inputs():
    figures = {  # the paths the catalog gives each pipeline's figures (partition ids)
        "audio_models_30s/random_forest/confusion_holdout": picture("red"),
        "confusion_matrices/cnn_mel_fault_filtered": picture("green"),
        "audio_models_3s/svm/confusion_leaky_segments": picture("blue"),
        "pm25_forecast_vs_actual": picture("gray"), "pm25_forecast_week": picture("gray"),
        "pm25_error_by_horizon": picture("gray"),
    }
    pm25 = pd.DataFrame({"model": ["persistence", "lstm"], "features": ["pm25", "all"], "horizon_h": [1, 1],
                         "rmse": [21.4, 19.0], "mae": [12.0, 11.0], "mse_scaled": [0.1, 0.09],
                         "persistence_rmse": [21.4, 21.4], "skill": [0.0, 0.11]})
    scores = pd.DataFrame({"feature": [f"mfcc{i}_mean" for i in range(15)], "mic": [1 - i / 20 for i in range(15)],
                           "spearman": 0.3, "boruta_decision": "confirmed", "mdi": 0.01, "permutation": 0.02})
    return dict(comparison=comparison(), leakage=leakage_table(comparison()), figures=figures,
                pm25_metrics=pm25, feature_scores=scores, feature_scores_3s=None,
                selected_features={"features": ["mfcc0_mean", "mfcc3_mean"], "method": "rank by mic"},
                selected_features_3s=None, params=PARAMS)


def test_report_holds_every_section_and_only_inline_png_images():
    page = Page(build_report(**all_inputs()))
    assert page.h2 == HEADINGS
    assert not {t for t in page.tags if t.startswith("external:")}, page.tags
    assert len(page.images) == 1 + 3 + 1 + 3  # heatmap, 3 confusion matrices, leakage, 3 PM2.5 plots
    for src, _ in page.images:
        assert src.startswith("data:image/png;base64,"), src[:60]
        Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).verify()
    assert [s for _, s in page.images].count("best") == 3
    best = page.sections["best"]
    assert "holdout: random_forest [30s], accuracy 0.740 ± 0.030 over 5 splits" in best
    assert "fault_filtered: cnn_mel [mel_30s], accuracy 0.550 on 1 split" in best
    assert "leaky_segments: svm [3s]" in best and "inflated" in best
    features = page.sections["features"]
    assert "mfcc9_mean" in features and "mfcc10_mean" not in features  # the top 10 only
    assert "3-s table" in features and NOT_RUN_YET in features  # no 3-s scores given
    assert "kedro viz run" in page.sections["explore"] and "make mlflow" in page.sections["explore"]
    assert "kedro mlflow ui" in page.sections["explore"] and "make viz" in page.sections["explore"]
    assert "21.400" in page.sections["pm25"]
    for section in ("comparison", "best", "leakage", "pm25"):
        assert NOT_RUN_YET not in page.sections[section], section
    plt.close("all")


def test_a_run_on_the_synthetic_corpus_says_so_before_any_figure():
    real = build_report(**all_inputs())
    manifest = pd.DataFrame({"filename": [f"blues.{i:05d}.wav" for i in range(100)], "synthetic": True})
    synthetic = build_report(**all_inputs(), sample_manifest=manifest)
    note = "audio is the synthetic sample corpus (100 generated tracks), not GTZAN"
    assert note not in real and note in synthetic
    assert synthetic.index(note) < synthetic.index("<img")   # read before the heatmap
    plt.close("all")


def test_missing_inputs_say_not_run_yet_instead_of_failing():
    empty = pd.DataFrame(columns=comparison().columns)
    page = Page(build_report(comparison=empty, leakage=leakage_table(empty), figures=None, pm25_metrics=None,
                             feature_scores=None, feature_scores_3s=None, selected_features=None,
                             selected_features_3s=None, params=PARAMS))
    assert page.h2 == HEADINGS and page.images == []
    for section in ("comparison", "best", "leakage", "pm25", "features"):
        assert NOT_RUN_YET in page.sections[section], (section, page.sections[section])
    assert "kedro run --pipeline pm25_forecast" in page.sections["pm25"]


@pytest.mark.parametrize("env", ["gtzan", "gpu"])
def test_the_run_hints_name_the_config_env_the_report_was_written_in(env):
    run_env = yaml.safe_load((REPO_ROOT / f"conf/{env}/parameters_reporting.yml").read_text())["reporting"]["run_env"]
    assert run_env == env
    empty = pd.DataFrame(columns=comparison().columns)
    text = build_report(comparison=empty, leakage=leakage_table(empty), figures=None, pm25_metrics=None,
                        feature_scores=None, feature_scores_3s=None, selected_features=None,
                        selected_features_3s=None, params={**PARAMS, "run_env": run_env})
    page = Page(text)
    for section, pipeline in [("comparison", "audio_models_30s"), ("leakage", "audio_models_3s"),
                              ("pm25", "pm25_forecast"), ("features", "feature_selection")]:
        assert f"kedro run --env {env} --pipeline {pipeline}" in page.sections[section], section
    assert f"kedro run --env {env} --pipeline reporting" in text
    assert "kedro run --pipeline" not in text


def test_a_best_model_without_a_saved_confusion_matrix_is_said_so():
    inputs = all_inputs()
    del inputs["figures"]["audio_models_30s/random_forest/confusion_holdout"]
    page = Page(build_report(**inputs))
    best = page.sections["best"]
    assert "No confusion matrix is saved for random_forest [30s] under holdout" in best
    assert [s for _, s in page.images].count("best") == 2
    plt.close("all")


def test_an_unreadable_png_costs_its_picture_not_the_page():
    inputs = all_inputs()

    def broken():
        raise OSError("truncated file")

    inputs["figures"]["pm25_forecast_week"] = broken
    page = Page(build_report(**inputs))
    assert "pm25_forecast_week.png: not run yet" in page.sections["pm25"]
    assert [s for _, s in page.images].count("pm25") == 2
    plt.close("all")


@pytest.fixture
def reporting_catalog(tmp_path, monkeypatch):
    """report.html's catalog entries, their relative paths under an empty tmp project."""
    from kedro.io import DataCatalog

    monkeypatch.chdir(tmp_path)
    entries = yaml.safe_load((REPO_ROOT / "conf/base/catalog_reporting.yml").read_text())
    names = ("reporting_figures", "pm25_metrics_if_present", "report_html")
    return DataCatalog.from_config({name: entries[name] for name in names})


def test_report_inputs_load_none_when_absent_and_pngs_lazily(reporting_catalog, tmp_path):
    assert reporting_catalog.load("reporting_figures") is None
    assert reporting_catalog.load("pm25_metrics_if_present") is None
    folder = tmp_path / "data/08_reporting/audio_models_30s/svm"
    folder.mkdir(parents=True)
    Image.new("RGB", (8, 8), "red").save(folder / "confusion_holdout.png")
    figures = reporting_catalog.load("reporting_figures")
    assert set(figures) == {"audio_models_30s/svm/confusion_holdout"}
    assert figures["audio_models_30s/svm/confusion_holdout"]().size == (8, 8)


def test_report_html_is_written_whole_by_rename(reporting_catalog, tmp_path):
    reporting_catalog.save("report_html", "<p>first ± –</p>")
    reporting_catalog.save("report_html", "<p>second</p>")
    folder = tmp_path / "data/08_reporting"
    assert (folder / "report.html").read_text(encoding="utf-8") == "<p>second</p>"
    assert [p.name for p in folder.iterdir()] == ["report.html"]  # no temp file left behind
