"""Build of the ``parcours`` distribution.

The repository keeps the client's layout (``core/ rules/ actors/ ops/`` at the top level); the
distribution exposes them as sub-packages of ``parcours`` through ``package_dir``.
"""

from setuptools import setup

#: top-level folder -> sub-package of the ``parcours`` distribution
SUBPACKAGES = {
    "parcours.core": "core",
    "parcours.rules": "rules",
    "parcours.actors": "actors",
    "parcours.ops": "ops",
}

setup(
    packages=list(SUBPACKAGES),
    package_dir=SUBPACKAGES,
    package_data={"parcours.rules": ["py.typed"], "parcours.core": ["py.typed"]},
)
