"""One package per registered Kedro pipeline (nodes.py + pipeline.py)."""
