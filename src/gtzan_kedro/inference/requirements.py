"""The served model's pip requirements, derived from the project's own dependency pins.

pyproject.toml is the one place versions are written; the pyfunc (``log_genre_model``) and
the catalog's ``genre_pyfunc_model`` entry (through the ``gtzan_serving_requirements``
config resolver in settings.py) both take their list from here.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

# What the pyfunc imports at serving time (decode, features, classifier, pyfunc wrapper);
# Keras models would add tensorflow, which the sample-scale best model does not need.
SERVING_PACKAGES = (
    "librosa", "soundfile", "soxr", "scikit-learn", "numpy", "pandas", "bottleneck", "mlflow",
)
_PYPROJECT = Path(__file__).resolve().parents[3] / "pyproject.toml"


def project_dependencies() -> list[str]:
    """The project's declared dependencies: the source tree's pyproject.toml, else the install's."""
    if _PYPROJECT.is_file():
        return list(tomllib.loads(_PYPROJECT.read_text())["project"]["dependencies"])
    return list(metadata.requires("gtzan_kedro") or [])


@lru_cache(maxsize=1)
def _serving_requirements() -> tuple[str, ...]:
    declared = {}
    for line in project_dependencies():
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate():
            requirement.extras = set()
            declared[canonicalize_name(requirement.name)] = str(requirement)
    missing = [name for name in SERVING_PACKAGES if canonicalize_name(name) not in declared]
    if missing:
        raise RuntimeError(
            f"pyproject.toml does not declare {missing}, which the served genre model imports; "
            "add them to [project] dependencies"
        )
    return tuple(declared[canonicalize_name(name)] for name in SERVING_PACKAGES)


def serving_requirements() -> list[str]:
    """pip requirement lines of the served genre model, with the project's version pins."""
    return list(_serving_requirements())
