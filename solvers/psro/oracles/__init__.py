"""PSRO's best-response oracles: exact (normal-form games) and PPO (environments)."""
