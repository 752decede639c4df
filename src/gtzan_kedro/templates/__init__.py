"""Namespaced pipeline templates that several registered pipelines build from their parameters."""
