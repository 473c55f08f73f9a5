"""Sweeps: a preset over a grid of config values, each point (or seed batch) one run of the shared store, run as
Ray tasks on a local instance or a cluster, or one after another in-process without Ray. See docs/sweeps.md."""
