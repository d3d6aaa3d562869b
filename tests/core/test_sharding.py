"""Many devices and hosts give one device's results.

One subprocess with 8 virtual CPU devices (the device count is fixed when jax is imported)
compares a 1-device mesh with an 8-device mesh for the same keys: rollout, seeds split by
shard_map, IPPO through runs.train, exact Shapley values, RL-oracle PSRO's meta-game, and the
errors for bad device counts. Beside it, at the same time (two cores, two jobs), two processes
joined by jax.distributed (benchmarks/launch_multihost.py --local 2, gloo CPU collectives) train the
same IPPO run over a mesh spanning both, and must get the one-device metrics the first subprocess
prints.
"""

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from marljax.cli import main

LAUNCHER = pathlib.Path(__file__).parents[2] / "benchmarks" / "launch_multihost.py"
IPPO_CONFIG = dict(
    total_steps=3 * 16 * 4, num_envs=16, num_steps=4, num_minibatches=2, update_epochs=2, hidden_size=8, lr=1e-2
)

SCRIPT = f"IPPO_CONFIG = {IPPO_CONFIG!r}\n" + textwrap.dedent(
    """
    import dataclasses, json, tempfile
    import jax, jax.numpy as jnp, numpy as np
    import marljax
    from marljax import runs
    from marljax.rollout import sample_valid_actions
    from marljax.sharding import batch_mesh, split_seeds
    from marljax.solvers import ippo, shapley
    assert len(jax.devices()) == 8, jax.devices()
    one, eight = batch_mesh(1), batch_mesh(8)
    env = marljax.make("matrix/MatrixGame-v0", horizon=4)

    # rollout: bit-identical, and really spread over the 8 devices
    policy = marljax.random_policy(env)
    key = jax.random.PRNGKey(3)
    _, sharded = marljax.rollout(env, policy, key, 64, 10, mesh=eight)
    _, plain = marljax.rollout(env, policy, key, 64, 10)
    assert len(sharded.reward.sharding.device_set) == 8
    assert sharded.reward.sharding.shard_shape(sharded.reward.shape) == (10, 8, 3)
    jax.tree_util.tree_map(np.testing.assert_array_equal, sharded, plain)

    # seeds split over the devices (shard_map, what runs.train does when the devices divide the seeds)
    seed_keys = jax.random.split(key, 8)
    rewards = lambda k: marljax.rollout(env, policy, k, 4, 6)[1].reward
    split = jax.jit(split_seeds(rewards, eight))(seed_keys)
    assert len(split.sharding.device_set) == 8
    np.testing.assert_array_equal(split, jax.jit(jax.vmap(rewards))(seed_keys))

    # IPPO: the env axis split over 8 devices (runs.train, one seed) equals one device's run
    config = ippo.PPOConfig(**IPPO_CONFIG)
    run_key = jax.random.split(jax.random.PRNGKey(0), 1)[0]  # runs.train's key of seed 0
    runner, single = jax.jit(ippo.make_train(config, env, mesh=one))(run_key)
    assert float(np.abs(single["episode_return"][-1]).sum()) > 0  # episodes finished: not all zeros
    assert float(np.abs(np.diff(single["value"])).max()) > 1e-3  # the critic learned across the updates
    out = tempfile.mkdtemp()
    fields = {f.name: getattr(config, f.name) for f in dataclasses.fields(config) if f.name != "centralised_critic"}
    assert runs.device_plan(8, 1, runs._spec("ippo"), config) == (8, "envs")
    assert runs.device_plan(8, 16, runs._spec("ippo"), config) == (8, "seeds")
    runs.train("ippo", "matrix/MatrixGame-v0", f"{out}/ippo", devices=8, progress=False,
               env_kwargs={"horizon": 4}, **fields)
    rows = runs.read_metrics(f"{out}/ippo")
    assert [r["update"] for r in rows] == [0, 1, 2]
    for name, column in (("loss", "loss"), ("value", "value"), ("entropy", "entropy"), ("approx_kl", "approx_kl")):
        np.testing.assert_allclose([r[column] for r in rows], single[name], rtol=1e-4, atol=1e-6, err_msg=name)
    for i in range(3):
        np.testing.assert_allclose([r[f"return_agent_{i}"] for r in rows], single["episode_return"][:, i], rtol=1e-5)

    # exact Shapley values of a rollout game: 4 coalitions (2 players) padded onto 8 devices
    def random_play(carry, observation, first, key):
        keys = jax.random.split(key, observation.action_mask.shape[0])
        return carry, jax.vmap(sample_valid_actions)(keys, observation.action_mask)
    values = {}
    for mesh in (one, eight):
        game = shapley.rollout_game(env, random_play, jax.random.PRNGKey(5), 32, "noop", players=(0, 1), mesh=mesh)
        values[mesh.size] = shapley.exact(game, 2)
    assert abs(values[8].grand - values[8].empty) > 1e-3
    np.testing.assert_allclose(values[1].values, values[8].values, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(values[1].stderr, values[8].stderr, rtol=1e-6, atol=1e-9)

    # RL-oracle PSRO: the meta-game's entries split over 8 devices
    from marljax.solvers import psro_rl
    from marljax.solvers.psro.meta_solvers import make_meta_solver
    rps = marljax.make("matrix/MatrixGame-v0", horizon=4)
    psro_config = psro_rl.RLOracleConfig(sims_per_entry=8, teams=((0,), (1, 2)))
    meta = {}
    for mesh in (one, eight):
        solver = psro_rl.make_rl_psro(rps, make_meta_solver("uniform"), 3, psro_config, mesh=mesh)
        meta[mesh.size] = solver.init(jax.random.PRNGKey(7)).meta_payoffs
    assert float(jnp.abs(meta[8]).max()) > 0
    np.testing.assert_allclose(meta[1], meta[8], rtol=1e-5, atol=1e-6)

    # bad device counts and batches
    for bad, match in ((0, "positive integer"), (9, "JAX sees 8")):
        try:
            batch_mesh(bad)
            raise AssertionError(f"batch_mesh({bad}) did not raise")
        except ValueError as err:
            assert match in str(err), err
    for build in (
        lambda: ippo.make_train(dataclasses.replace(config, num_envs=12), env, mesh=eight),
        lambda: marljax.rollout(env, policy, key, 12, 4, mesh=eight),
    ):
        try:
            build()
            raise AssertionError("num_envs=12 on 8 devices did not raise")
        except ValueError as err:
            assert "num_envs=12 does not split over 8 devices" in str(err), err
    try:
        runs.train("ippo", "matrix/MatrixGame-v0", f"{out}/bad", devices=8, seeds=3, progress=False,
                   env_kwargs={"horizon": 4}, **{**fields, "num_envs": 6, "num_minibatches": 1})
        raise AssertionError("8 devices for 3 seeds and 6 envs did not raise")
    except ValueError as err:
        assert "divide neither seeds=3 nor num_envs=6" in str(err), err
    print("SINGLE " + json.dumps(jax.tree_util.tree_map(lambda x: np.asarray(x).tolist(), single)))
    print("ok")
    """
)

# Run by each of two processes (2 virtual devices each) joined by jax.distributed.
MULTIHOST_SCRIPT = f"IPPO_CONFIG = {IPPO_CONFIG!r}\n" + textwrap.dedent(
    """
    import json
    import jax, numpy as np
    import marljax
    from marljax import distributed
    from marljax.sharding import batch_mesh, replicate
    from marljax.solvers import ippo

    mesh = batch_mesh()  # every device of both processes
    env = marljax.make("matrix/MatrixGame-v0", horizon=4)
    train = ippo.make_train(ippo.PPOConfig(**IPPO_CONFIG), env, mesh=mesh)
    run_key = jax.random.split(jax.random.PRNGKey(0), 1)[0]
    metrics = jax.jit(lambda key: replicate(train(key)[1], mesh))(run_key)
    sharded = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("batch"))
    spread = jax.jit(lambda key: jax.random.normal(key, (8,)), out_shardings=sharded)(jax.random.PRNGKey(1))
    record = {
        "process": jax.process_index(),
        "processes": jax.process_count(),
        "devices": jax.device_count(),
        "local_devices": jax.local_device_count(),
        "gathered": distributed.gather(spread).tolist(),
        "expected_gathered": np.asarray(jax.random.normal(jax.random.PRNGKey(1), (8,))).tolist(),
        "metrics": jax.tree_util.tree_map(lambda x: np.asarray(x).tolist(), metrics),
    }
    print("RESULT " + json.dumps(record), flush=True)
    """
)


@pytest.fixture(scope="module")
def subprocesses(tmp_path_factory):
    """``(8-device run, 2-process run)`` as finished ``CompletedProcess``es, run at the same time."""
    script = tmp_path_factory.mktemp("multihost") / "train.py"
    script.write_text(MULTIHOST_SCRIPT)
    plain = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "JAX_PLATFORMS")}
    eight = dict(plain, XLA_FLAGS="--xla_force_host_platform_device_count=8", JAX_PLATFORMS="cpu")
    commands = [
        ([sys.executable, "-c", SCRIPT], eight),
        ([sys.executable, str(LAUNCHER), "--local", "2", "--local-devices", "2", str(script)], plain),
    ]
    procs = [subprocess.Popen(c, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for c, e in commands]
    try:
        outputs = [p.communicate(timeout=600) for p in procs]
        return [subprocess.CompletedProcess(p.args, p.returncode, *o) for p, o in zip(procs, outputs)]
    finally:
        for p in procs:
            p.kill()


def _lines(out, prefix):
    return [json.loads(line[len(prefix) :]) for line in out.stdout.splitlines() if line.startswith(prefix)]


def test_one_and_eight_devices_give_the_same_results(subprocesses):
    out = subprocesses[0]
    assert out.returncode == 0, out.stderr[-4000:]
    assert out.stdout.strip().endswith("ok")


def test_two_processes_joined_by_jax_distributed_train_like_one(subprocesses):
    eight, launched = subprocesses
    assert launched.returncode == 0, launched.stderr[-4000:]
    assert eight.returncode == 0, eight.stderr[-4000:]
    (single,) = _lines(eight, "SINGLE ")
    records = sorted(_lines(launched, "RESULT "), key=lambda r: r["process"])
    assert [r["process"] for r in records] == [0, 1]
    for record in records:  # one run over 2 hosts x 2 devices; each host holds the whole metrics
        assert (record["processes"], record["devices"], record["local_devices"]) == (2, 4, 2)
        assert record["metrics"].keys() == single.keys()
        for name, want in single.items():
            if name != "env_metrics":  # {} for a matrix game
                got = np.asarray(record["metrics"][name])
                np.testing.assert_allclose(got, np.asarray(want), rtol=1e-4, atol=1e-6, err_msg=name)
        # an array sharded over both hosts is read whole by each (distributed.gather)
        np.testing.assert_allclose(record["gathered"], record["expected_gathered"], rtol=1e-6)
    assert float(np.abs(np.asarray(single["episode_return"])).sum()) > 0


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "ippo", "matrix/MatrixGame-v0", "--devices", "0"], "must be a positive integer; got 0"),
        (["train", "ippo", "matrix/MatrixGame-v0", "--devices", "2"], "asked for 2 devices but JAX sees 1"),
        (["explain", "no_run", "--devices", "0"], "must be a positive integer; got 0"),
        (["psro", "stag_hunt", "--devices", "3"], "asked for 3 devices but JAX sees 1"),
    ],
)
def test_a_bad_device_count_is_a_one_line_cli_error(argv, message, tmp_path, capsys):
    if argv[0] == "train":
        argv = argv + ["--out", str(tmp_path / "run")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert not (tmp_path / "run").exists()
