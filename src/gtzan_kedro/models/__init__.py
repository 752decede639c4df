"""Model builders: Keras networks and the scikit-learn baseline factory."""
