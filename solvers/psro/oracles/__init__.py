"""PSRO's best-response oracles: :mod:`.exact` (normal-form games) and :mod:`.rl` (PPO in
two-team environments)."""
