"""Multi-agent learners in the PureJaxRL style: ``make_train(config, env) -> train(key)``.

Read in this order: :mod:`.networks` (actor and critic towers), :mod:`.ppo` (the PPO core:
GAE, the clipped loss, the update loop), then the variants :mod:`.ippo` and :mod:`.mappo`.
"""
