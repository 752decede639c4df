"""Classify any audio file with a trained genre model; package it for MLflow serving.

Library code (no Kedro): ``predictor`` (segments -> features -> probabilities -> song
genre), ``resolve`` (which model: a path, an MLflow URI or the latest trained one),
``pyfunc`` (the model as one MLflow pyfunc whose input is audio), ``report`` (table,
JSON and CSV renderings for the `gtzan predict` command). Nothing is imported here so that
`gtzan --help` stays fast.
"""
