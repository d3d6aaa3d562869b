"""MAPPO: PPO whose critic reads the env's centralised ``global_state``.

Yu et al. 2022, "The Surprising Effectiveness of PPO in Cooperative Multi-Agent Games".
The algorithm lives in :mod:`marljax.solvers.learners.ppo`; this module fixes the critic.

    from marljax.solvers import mappo
    train = mappo.make_train(mappo.PPOConfig(total_steps=200_000), marljax.make("mpe/SimpleSpread-v0"))
    runner, metrics = jax.jit(jax.vmap(train))(jax.random.split(jax.random.PRNGKey(0), 4))
"""

from marljax.solvers.learners.ppo import PPOConfig, variant

__all__ = ["PPOConfig", "make_train", "make_learner"]

make_learner, make_train = variant(
    "mappo",
    "MAPPO: PPO with a centralised critic on the env's global_state (Yu et al. 2022)",
    centralised_critic=True,
)
