"""drillbook: rehearse incidents before you have one.

Tabletop exercises and chaos security drills, with every finding tracked to closure.
"""

try:
    # Written by the build (setuptools-scm from `git describe`): a release says its tag,
    # a build between releases says how far past it and which commit.
    from drillbook._version import __version__
except ImportError:  # a source tree that was never built or installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
