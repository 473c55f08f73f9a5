"""mesaopt: a lab for learned optimization."""

__version__ = "0.1.0"
