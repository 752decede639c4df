"""Classify any audio file with a trained genre model; package it for MLflow serving.

Library code (no Kedro): ``predictor`` (segments -> features -> probabilities -> song
genre), ``resolve`` (a model from a path or MLflow URI; the newest of several candidates),
``pyfunc`` (the model as one MLflow pyfunc whose input is uploaded audio), ``serving``
(what the served model accepts: limits, allowed server folder), ``stream`` (block-wise
decoding of long files), ``requirements`` (the pyfunc's pip requirements, from
pyproject.toml), ``report`` (table, JSON and CSV renderings for `gtzan predict`). Which
model a project uses by default (its catalog, its MLflow store) is the CLI layer's
``gtzan_kedro.cli_resolve``. Nothing is imported here so that
`gtzan --help` stays fast.
"""
