"""audio_models: MLPs, tuned MLP, trees and SVMs on the feature tables, scored without leakage."""
