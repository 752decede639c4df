"""Keras LSTM forecasters whose output layer cannot go negative, and their training loop."""

from __future__ import annotations

import numpy as np

from gtzan_kedro.models.seeding import set_seed


def masked_mse(y_true, y_pred):
    """MSE over the observed targets only (NaN = unobserved), so a window whose 6-h target
    is missing still teaches the 1-h and 24-h outputs and imputed targets never teach."""
    from keras import ops

    observed = ops.logical_not(ops.isnan(y_true))
    error = ops.where(observed, y_true - y_pred, ops.zeros_like(y_pred))
    count = ops.sum(ops.cast(observed, y_pred.dtype), axis=-1)
    return ops.sum(ops.square(error), axis=-1) / ops.maximum(count, 1.0)


def register_masked_mse():
    """``masked_mse`` registered with Keras by name (a saved model or one pickled on another
    worker loads with it); returns the registered loss."""
    import keras

    return keras.saving.register_keras_serializable(package="gtzan_kedro", name="masked_mse")(masked_mse)


def build_lstm(
    lookback: int,
    n_features: int,
    units: int | list[int] = 2,
    n_outputs: int = 1,
    dropout: float = 0.0,
    learning_rate: float = 0.01,
    output_activation: str = "softplus",
    skip_connection: bool = False,
    persistence_column: int | None = None,
    head_units: int = 0,
    seed: int = 0,
):
    """A stacked LSTM -> Dense(n_outputs) forecaster compiled with Adam and (masked) MSE.

    ``units=2`` with one layer and ``learning_rate=0.01`` is the report's model. The output
    activation (softplus by default) keeps forecasts >= 0 in a target space where 0 is 0 ug/m3.
    ``skip_connection`` adds a linear map of the window's last hour before that activation
    (LSTNet's autoregressive highway), so persistence-like behaviour need not be learnt
    through the LSTM's saturating gates. ``persistence_column`` (the scaled PM2.5 input, on
    the target's scale) starts the model as persistence: the LSTM then learns the change,
    and a ReLU output is alive from the first step. ``head_units`` > 0 puts a ReLU dense
    layer between the LSTM and the output (sharp, threshold-like responses, e.g. to a front).
    """
    import keras

    loss = register_masked_mse()
    set_seed(seed)
    layer_units = [units] if isinstance(units, int) else list(units)
    inputs = keras.Input(shape=(lookback, n_features), name="window")
    x = inputs
    for i, size in enumerate(layer_units):
        x = keras.layers.LSTM(size, return_sequences=i < len(layer_units) - 1, name=f"lstm_{i}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout)(x)
    if head_units:
        x = keras.layers.Dense(head_units, activation="relu", name="dense_head")(x)
    # With a persistence path the head starts at zero, so the untrained model is persistence
    # exactly: a random head can push every pre-activation below 0 and kill the ReLU output.
    head_init = "zeros" if persistence_column is not None else "glorot_uniform"
    head = keras.layers.Dense(n_outputs, kernel_initializer=head_init, name="lstm_head")(x)
    if skip_connection:
        last_hour = keras.layers.Lambda(lambda w: w[:, -1, :], name="last_hour")(inputs)
        head = keras.layers.Add(name="highway")([head, keras.layers.Dense(n_outputs, name="linear_ar")(last_hour)])
    if persistence_column is not None:
        last_value = keras.layers.Lambda(lambda w: w[:, -1, persistence_column:persistence_column + 1],
                                         name="last_pm25")(inputs)
        persistence = keras.layers.Dense(n_outputs, kernel_initializer="ones", name="persistence")(last_value)
        head = keras.layers.Add(name="change")([head, persistence])
    # float32 under mixed precision: the forecast and the masked loss need the full range
    outputs = keras.layers.Activation(output_activation, dtype="float32", name="pm25_scaled")(head)
    model = keras.Model(inputs, outputs, name=f"lstm_{'x'.join(map(str, layer_units))}_L{lookback}")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss=loss)
    return model


def fit_lstm(
    model,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_valid: np.ndarray,
    y_valid: np.ndarray,
    epochs: int = 20,
    batch_size: int = 64,
    patience: int = 3,
    verbose: int = 0,
    lr_patience: int | None = None,
    progress: str | None = "LSTM",
    progress_every: int = 1,
):
    """Train with early stopping on the validation tail (best weights restored), halving the
    learning rate after ``lr_patience`` epochs without progress when given; returns the
    Keras History. Keras stays silent by default; ``progress`` labels one log line per
    ``progress_every`` epochs (losses, ETA), None turns it off."""
    import keras

    callbacks = [keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience,
                                               restore_best_weights=True)]
    if lr_patience:
        callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5,
                                                           patience=lr_patience, min_lr=1e-5))
    callbacks += _progress(progress, progress_every)
    return model.fit(
        x_train, y_train, validation_data=(x_valid, y_valid), epochs=epochs,
        batch_size=batch_size, shuffle=True, callbacks=callbacks, verbose=verbose,
    )


def _progress(label: str | None, every: int) -> list:
    """An EpochProgress callback for ``label``, or none."""
    if not label:
        return []
    from gtzan_kedro.models.progress import EpochProgress

    return [EpochProgress(label, every=max(1, int(every)))]


def best_epoch_count(history) -> int:
    """How many epochs early stopping kept: the epoch of the lowest validation loss (1-based)."""
    return int(np.argmin(history.history["val_loss"])) + 1


def refit_lstm(model, x: np.ndarray, y: np.ndarray, epochs: int, batch_size: int = 64, verbose: int = 0,
               progress: str | None = "LSTM refit"):
    """Train a fresh model for a fixed number of epochs (chosen beforehand by early stopping)
    on all training windows, validation tail included: no held-out data is left to stop on
    (nor to drive a learning-rate schedule, so none is used)."""
    return model.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=verbose,
                     callbacks=_progress(progress, 1))


def ensemble_mean(member_forecasts: list[np.ndarray]) -> np.ndarray:
    """The seed ensemble's forecast: the plain mean of its members' (non-negative) forecasts,
    so it stays non-negative and averages away the seeds' independent errors."""
    if not member_forecasts:
        raise ValueError("an ensemble needs at least one member")
    return np.mean(np.stack(member_forecasts), axis=0)


def predict_batched(model, x: np.ndarray, batch_size: int = 2048) -> np.ndarray:
    """Forecasts for many windows without Keras' per-call overhead dominating."""
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0))
