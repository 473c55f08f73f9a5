"""Run toolkit: the run store, catalog, checkpoints, atomic writes, config parsing and the run driver."""
