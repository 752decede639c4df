"""Project settings. There is no need to edit this file unless you want to change values
from the Kedro defaults. For further information, including these default values, see
https://docs.kedro.org/en/stable/configure/configuration_basics/#configuration"""

import matplotlib

from gtzan_kedro.hooks import AcceleratorHook, ModelTrackingHook, NodeTimingHook, RunEnvironmentHook
from gtzan_kedro.resume import ResumeHook

# The one place the plotting backend is chosen: every Kedro command is headless (nodes draw
# figures the catalog saves; ThreadRunner workers must not touch a GUI backend).
matplotlib.use("Agg")

# RunEnvironmentHook records `--env` before the pipelines are built (their model lists come
# from the parameters); ModelTrackingHook opens one nested MLflow run per model namespace under
# kedro-mlflow's run (kedro-mlflow's own hooks are registered by its plugin entry point);
# AcceleratorHook applies the `runtime` parameters (mixed precision in conf/gpu) before the
# first Keras node.
# NodeTimingHook logs each node's wall time when it ends.
# ResumeHook makes `kedro run --only-missing-outputs` re-run nodes whose parameters or data changed.
HOOKS = (RunEnvironmentHook(), AcceleratorHook(), ModelTrackingHook(), NodeTimingHook(), ResumeHook())

# Installed plugins for which to disable hook auto-registration.
# DISABLE_HOOKS_FOR_PLUGINS = ("kedro-viz",)

# Class that manages the KedroSession.
# from kedro.framework.session import KedroSession
# SESSION_CLASS = KedroSession

# Class that manages storing KedroSession data.
# from kedro.framework.session.store import BaseSessionStore
# SESSION_STORE_CLASS = BaseSessionStore
# Keyword arguments to pass to the `SESSION_STORE_CLASS` constructor.
# SESSION_STORE_ARGS = {
#     "path": "./sessions"
# }

# Directory that holds configuration.
# CONF_SOURCE = "conf"

# Class that manages how configuration is loaded.
# from kedro.config import OmegaConfigLoader

# CONFIG_LOADER_CLASS = OmegaConfigLoader



def _serving_requirements() -> list[str]:
    """Imported on use, so settings stay cheap to import."""
    from gtzan_kedro.inference.requirements import serving_requirements

    return serving_requirements()


# Keyword arguments to pass to the `CONFIG_LOADER_CLASS` constructor.
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # conf/gtzan and conf/local only list the parameters they change: merge them deeply.
    "merge_strategy": {"parameters": "soft"},
    # The served model's pip requirements, from pyproject.toml's pins (catalog_inference.yml).
    "custom_resolvers": {"gtzan_serving_requirements": _serving_requirements},
    # "config_patterns": {
    #     "spark" : ["spark*/"],
    #     "parameters": ["parameters*", "parameters*/**", "**/parameters*"],
    # }
}

# Class that manages Kedro's library components.
# from kedro.framework.context import KedroContext
# CONTEXT_CLASS = KedroContext

# Class that manages the Data Catalog.
# from kedro.io import DataCatalog
# DATA_CATALOG_CLASS = DataCatalog
