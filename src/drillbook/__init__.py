"""drillbook: rehearse incidents before you have one.

Tabletop exercises and chaos security drills, with every finding tracked to closure.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
