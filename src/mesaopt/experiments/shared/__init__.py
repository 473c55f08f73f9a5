"""Glue that several experiments share: PPO agents, in-context-learning helpers, the evidence-card plumbing."""
