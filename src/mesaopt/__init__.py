"""mesaopt: a lab for learned optimization."""

from mesaopt._xla_flags import apply_xla_flags

apply_xla_flags()  # before any JAX computation initialises the CPU backend

__version__ = "0.1.0"
