"""A rollout sharded over 8 (virtual CPU) devices equals the single-device one."""

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import jax, numpy as np
    import marljax
    from marljax.sharding import batch_mesh
    assert len(jax.devices()) == 8, jax.devices()
    env = marljax.make("matrix/MatrixGame-v0", horizon=4)
    policy = marljax.random_policy(env)
    key = jax.random.PRNGKey(3)
    mesh = batch_mesh()
    _, sharded = marljax.rollout(env, policy, key, 64, 10, mesh=mesh)
    _, plain = marljax.rollout(env, policy, key, 64, 10)
    assert len(sharded.reward.sharding.device_set) == 8
    assert sharded.reward.sharding.shard_shape(sharded.reward.shape) == (10, 8, 3)
    jax.tree_util.tree_map(np.testing.assert_array_equal, sharded, plain)
    print("ok")
    """
)


def test_rollout_sharded_over_eight_devices_matches_single_device():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8", JAX_PLATFORMS="cpu")
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().endswith("ok")
