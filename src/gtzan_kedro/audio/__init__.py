"""Audio library code (no Kedro imports): loading, features, spectrograms, synthesis."""
