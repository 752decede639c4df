"""Keras MLPs for the feature tables: one builder, a preset per report's network, and a
scikit-learn-style wrapper so a scaler and the network sit in one Pipeline."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.pipeline import Pipeline

from gtzan_kedro.models.cnn import compile_classifier
from gtzan_kedro.models.runtime import softmax_output
from gtzan_kedro.models.seeding import one_fit_at_a_time, set_seed

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# The reports' networks. units: hidden layer sizes; everything else is a build_mlp keyword.
MLP_PRESETS: dict[str, dict[str, Any]] = {
    # 3 hidden layers for the 30-s table, Nadam and dropout
    "nadam3": {"units": [512, 256, 64], "dropout": 0.3, "optimizer": "nadam", "learning_rate": 1e-3},
    # 4 hidden layers for the 3-s table, Nadam and dropout
    "nadam4": {"units": [1024, 512, 256, 64], "dropout": 0.3, "optimizer": "nadam",
               "learning_rate": 1e-3},
    # 5 x 500 with L1+L2 penalties and light dropout
    "wide5_l1l2": {"units": [500] * 5, "dropout": 0.05, "l1": 1e-5, "l2": 1e-4, "optimizer": "adam",
                   "learning_rate": 1e-3},
    # 3 x 750 with L2 and a slow Adam
    "deep3_l2": {"units": [750] * 3, "l2": 1e-3, "optimizer": "adam", "learning_rate": 1e-4},
    "pyramid": {"units": [256, 128, 64], "optimizer": "adam", "learning_rate": 1e-3},
    "tanh50": {"units": [50], "activation": "tanh", "optimizer": "adam", "learning_rate": 1e-3},
    "relu4": {"units": [100, 250, 250, 100], "optimizer": "adam", "learning_rate": 1e-3},
}


def _optimizer(name: str, learning_rate: float):
    import keras

    optimizers = {"adam": keras.optimizers.Adam, "nadam": keras.optimizers.Nadam,
                  "sgd": keras.optimizers.SGD, "rmsprop": keras.optimizers.RMSprop}
    if name not in optimizers:
        raise ValueError(f"unknown optimizer {name!r}; use one of {sorted(optimizers)}")
    return optimizers[name](learning_rate=learning_rate)


def build_mlp(n_features: int, n_classes: int, units: list[int], activation: str = "relu",
              dropout: float = 0.0, l1: float = 0.0, l2: float = 0.0, optimizer: str = "adam",
              learning_rate: float = 1e-3, seed: int | None = None):
    """A compiled dense softmax classifier: ``units`` hidden layers, optional dropout and L1/L2."""
    import keras

    if seed is not None:
        set_seed(seed)
    regularizer = keras.regularizers.L1L2(l1=l1, l2=l2) if (l1 or l2) else None
    inputs = keras.Input(shape=(n_features,), name="features")
    x = inputs
    for i, width in enumerate(units):
        x = keras.layers.Dense(width, activation=activation, kernel_regularizer=regularizer,
                               name=f"dense_{i}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout_{i}")(x)
    outputs = softmax_output(n_classes, name="genre")(x)
    return compile_classifier(keras.Model(inputs, outputs, name="mlp"),
                              optimizer=_optimizer(optimizer, learning_rate))


def preset(name: str) -> dict[str, Any]:
    """A copy of the keyword arguments of preset ``name``."""
    if name not in MLP_PRESETS:
        raise ValueError(f"unknown MLP preset {name!r}; use one of {sorted(MLP_PRESETS)}")
    return dict(MLP_PRESETS[name])


class KerasMLPClassifier(ClassifierMixin, BaseEstimator):
    """scikit-learn wrapper around :func:`build_mlp` (or any ``build_fn``) with early stopping
    on a validation set, so it can be the last step of a Pipeline after a scaler.

    Keras itself stays silent (``verbose=0``); every ``progress_every`` epochs one log line
    gives the losses and an ETA (0 turns it off)."""

    def __init__(self, preset: str | None = "pyramid", build_params: dict | None = None,
                 epochs: int = 200, batch_size: int = 32, patience: int = 20,
                 build_fn: Any = None, seed: int = 0, verbose: int = 0,
                 progress_every: int = 25):
        self.preset = preset
        self.build_params = build_params
        self.epochs = epochs
        self.batch_size = batch_size
        self.patience = patience
        self.build_fn = build_fn
        self.seed = seed
        self.verbose = verbose
        self.progress_every = progress_every

    @one_fit_at_a_time
    def fit(self, X, y, validation_data: tuple | None = None):
        """Train on (X, y); with ``validation_data=(X_val, y_val)`` stop early on its loss and
        keep the best weights."""
        import keras

        X = np.asarray(X, dtype=np.float32)
        self.classes_ = np.unique(np.asarray(y, dtype=object))
        codes = np.searchsorted(self.classes_, np.asarray(y, dtype=object))
        self.n_features_in_ = X.shape[1]
        # a build_fn (the tuner's) gets the same seeded start as the presets' build_mlp
        set_seed(self.seed)
        if self.build_fn is not None:
            self.model_ = self.build_fn(X.shape[1], len(self.classes_))
        else:
            params = {**(preset(self.preset) if self.preset else {}), **(self.build_params or {})}
            self.model_ = build_mlp(X.shape[1], len(self.classes_), seed=self.seed, **params)
        callbacks, val = [], None
        if self.progress_every:
            from gtzan_kedro.models.progress import EpochProgress

            callbacks.append(EpochProgress(f"MLP {self.model_.name}", every=int(self.progress_every)))
        if validation_data is not None and len(validation_data[0]):
            X_val, y_val = validation_data
            val = (np.asarray(X_val, dtype=np.float32),
                   np.searchsorted(self.classes_, np.asarray(y_val, dtype=object)))
            callbacks.append(keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=self.patience, restore_best_weights=True))
        history = self.model_.fit(X, codes, validation_data=val, epochs=self.epochs,
                                  batch_size=self.batch_size, callbacks=callbacks,
                                  verbose=self.verbose)
        self.history_ = {k: [float(v) for v in vals] for k, vals in history.history.items()}
        return self

    def predict_proba(self, X) -> np.ndarray:
        return self.model_.predict(np.asarray(X, dtype=np.float32), verbose=0,
                                   batch_size=1024).astype(float)

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def fit_with_validation(pipeline: Pipeline, X_train, y_train, X_val=None, y_val=None) -> Pipeline:
    """Fit a Pipeline whose last step accepts ``validation_data``: the preprocessing is fitted
    on training rows only and then applied to the validation rows."""
    if X_val is None or len(X_val) == 0:
        return pipeline.fit(X_train, y_train)
    preprocessing = pipeline[:-1]
    Xt = preprocessing.fit_transform(X_train, y_train)
    Xv = preprocessing.transform(X_val)
    pipeline.steps[-1][1].fit(Xt, y_train, validation_data=(Xv, y_val))
    return pipeline
