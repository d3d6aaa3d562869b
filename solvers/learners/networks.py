"""Actor and critic towers for the PPO learners: feed-forward or GRU, shared or per-agent.

Every tower has one signature, whatever its kind, so the learners never branch on it:

    carry, out = tower.apply(params, carry, x, resets)

with ``x [T, B..., D]`` a time-major sequence, ``resets [T, B...]`` True where an episode
began (the GRU state is zeroed there) and ``carry [B..., H]``. Feed-forward towers pass the
carry through untouched (``H = 1``). With parameter sharing off, ``params`` carry a leading
agent axis and :func:`apply_per_agent` vmaps the tower over the agent axis of the data.
Initialisation follows PureJaxRL/JaxMARL: orthogonal(sqrt 2) hidden layers, orthogonal(0.01)
policy head and orthogonal(1) value head, zero biases.
"""

from __future__ import annotations

import functools

import distrax
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax.linen.initializers import constant

__all__ = ["Tower", "ResetGRU", "apply_per_agent", "policy_distribution", "orthogonal", "ACTIVATIONS"]

ACTIVATIONS = {"tanh": nn.tanh, "relu": nn.relu}
NEWTON_SCHULZ_STEPS = 40


def orthogonal(scale: float = 1.0):
    """Orthogonal initialiser without LAPACK: the polar factor of a Gaussian matrix (which is
    Haar-distributed, like the QR-based initialiser's), found by Newton-Schulz iterations
    ``X <- 1.5 X - 0.5 X X^T X`` from ``X / |X|_F``. Why not QR: ``jax.nn.initializers.orthogonal``
    calls LAPACK geqrf/orgqr, and those custom calls intermittently deadlock XLA:CPU when the
    init is vmapped over seeds inside one jit (jax 0.10, seen here on 2 cores)."""

    def init(key, shape, dtype=jnp.float32):
        rows, cols = shape[0], int(np.prod(shape[1:]))
        x = jax.random.normal(key, (max(rows, cols), min(rows, cols)), jnp.float32)
        x = x / jnp.linalg.norm(x)
        x = jax.lax.fori_loop(0, NEWTON_SCHULZ_STEPS, lambda _, x: 1.5 * x - 0.5 * x @ (x.T @ x), x)
        x = x if rows >= cols else x.T
        return (scale * x).reshape(shape).astype(dtype)

    return init


MASKED_LOGIT = -1e9  # a masked action's logit: probability exactly 0 after softmax in float32


class ResetGRU(nn.Module):
    """A GRU scanned over time that restarts from zeros where ``resets`` is True."""

    @functools.partial(nn.scan, variable_broadcast="params", in_axes=0, out_axes=0, split_rngs={"params": False})
    @nn.compact
    def __call__(self, carry, inputs):
        x, reset = inputs
        carry = jnp.where(reset[..., None], jnp.zeros_like(carry), carry)
        cell = nn.GRUCell(features=carry.shape[-1], recurrent_kernel_init=orthogonal())
        carry, y = cell(carry, x)
        return carry, y


class Tower(nn.Module):
    """Two hidden layers (or a layer, a GRU and a layer) and a linear head of ``num_outputs``."""

    num_outputs: int
    hidden_size: int = 64
    activation: str = "tanh"
    recurrent: bool = False
    head_scale: float = 0.01
    #: Add a state-independent log standard deviation (Gaussian policies).
    log_std: bool = False

    @nn.compact
    def __call__(self, carry, x, resets):
        act = ACTIVATIONS[self.activation]
        dense = lambda n: nn.Dense(n, kernel_init=orthogonal(np.sqrt(2)), bias_init=constant(0.0))  # noqa: E731
        h = act(dense(self.hidden_size)(x))
        if self.recurrent:
            carry, h = ResetGRU()(carry, (h, resets))
        h = act(dense(self.hidden_size)(h))
        out = nn.Dense(self.num_outputs, kernel_init=orthogonal(self.head_scale), bias_init=constant(0.0))(h)
        if self.log_std:
            log_std = self.param("log_std", constant(0.0), (self.num_outputs,))
            out = (out, jnp.broadcast_to(log_std, out.shape))
        return carry, out

    def carry_size(self) -> int:
        return self.hidden_size if self.recurrent else 1


def apply_per_agent(tower: Tower, shared: bool, params, carry, x, resets):
    """Apply ``tower`` to data with an agent axis (``x [T, B..., N, D]``, ``carry [B..., N, H]``,
    ``resets [T, B..., N]``): one parameter set for every agent, or one per agent."""
    if shared and not tower.recurrent:  # one batch of rows: plain 2-D matmuls, agents flattened in
        _, out = tower.apply(params, carry, x.reshape((-1, x.shape[-1])), resets.reshape(-1))
        return carry, jax.tree_util.tree_map(lambda y: y.reshape(x.shape[:-1] + y.shape[-1:]), out)
    if shared:
        return tower.apply(params, carry, x, resets)
    per_agent = jax.vmap(tower.apply, in_axes=(0, -2, -2, -1), out_axes=-2)
    return per_agent(params, carry, x, resets)


def policy_distribution(out, action_mask, continuous: bool):
    """The action distribution of a policy head: masked categorical or diagonal Gaussian."""
    if continuous:
        mean, log_std = out
        return distrax.MultivariateNormalDiag(mean, jnp.exp(log_std))
    return distrax.Categorical(logits=jnp.where(action_mask, out, MASKED_LOGIT))
