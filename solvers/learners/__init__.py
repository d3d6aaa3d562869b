"""Multi-agent learners in the PureJaxRL style: ``make_train(config, env) -> train(key)``.

Read in this order: :mod:`.networks` (actor and critic towers), :mod:`.advantages` (GAE with
the time-limit bootstrap), :mod:`.losses` (the clipped PPO loss, term by term), :mod:`.ppo`
(the wiring: rollout -> advantages -> minibatch epochs), then the variants :mod:`.ippo` and
:mod:`.mappo`, and :mod:`.registry` (every learner ``marljax train`` can run).
"""
