"""reporting: charts of the model comparison table shared by every model pipeline."""
