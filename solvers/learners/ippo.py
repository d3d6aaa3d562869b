"""IPPO: independent PPO, every agent's critic sees only its own observation.

de Witt et al. 2020, "Is Independent Learning All You Need in the StarCraft Multi-Agent
Challenge?". The algorithm lives in :mod:`marljax.solvers.learners.ppo`; this module fixes the critic.

    from marljax.solvers import ippo
    train = ippo.make_train(ippo.PPOConfig(total_steps=200_000), marljax.make("mpe/SimpleSpread-v0"))
    runner, metrics = jax.jit(jax.vmap(train))(jax.random.split(jax.random.PRNGKey(0), 4))
"""

from marljax.solvers.learners.ppo import PPOConfig, variant

__all__ = ["PPOConfig", "make_train", "make_learner"]

make_learner, make_train = variant(
    "ippo",
    "IPPO: independent PPO, each critic reads its own observation (de Witt et al. 2020)",
    centralised_critic=False,
)
