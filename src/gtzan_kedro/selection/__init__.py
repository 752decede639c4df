"""Feature selection as a library (no Kedro): relevance, redundancy, Boruta, forest importances,
exploration (PCA, K-means) and a scikit-learn FeatureSelector that reproduces the selection."""
