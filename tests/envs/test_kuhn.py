"""Kuhn poker: the exact tree evaluation against Kuhn's equilibria and OpenSpiel, and the env's
transitions, payoffs and observations on hand-built deals."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import marljax
from marljax.envs.cards.kuhn import env as kuhn_env
from marljax.envs.cards.kuhn import tree
from marljax.envs.cards.kuhn.types import KuhnState
from marljax.evaluation import play_episodes
from marljax.solvers.psro.oracles.best_response import AgentOrder, swapped_order


@pytest.mark.parametrize("alpha", [0.0, 1.0 / 6.0, 1.0 / 3.0])
def test_kuhn_equilibrium_family_is_unexploitable_with_value_minus_one_eighteenth(alpha):
    policy = tree.equilibrium_policy(alpha)
    np.testing.assert_allclose(tree.expected_payoffs(policy), [-1.0 / 18.0, 1.0 / 18.0], atol=1e-6)
    assert abs(float(tree.nash_conv(policy))) < 1e-6
    # Player 1 deviating (calling with a Jack) is exploitable: a wrong equilibrium would not be.
    wrong = policy.at[tree.infoset_index(1, 0, 1)].set(jnp.array([0.0, 1.0]))
    assert float(tree.nash_conv(wrong)) > 0.05


def _openspiel_policy(table):
    pyspiel = pytest.importorskip("pyspiel")
    from open_spiel.python import policy as os_policy

    game = pyspiel.load_game("kuhn_poker")
    tabular = os_policy.TabularPolicy(game)
    for index, key in enumerate(tree.OPENSPIEL_KEYS):
        tabular.action_probability_array[tabular.state_lookup[key]] = np.asarray(table[index], np.float64)
    return game, tabular


def test_nash_conv_matches_openspiel_for_uniform_and_random_policies():
    from open_spiel.python.algorithms import exploitability as os_exploitability

    uniform = tree.uniform_policy()
    # OpenSpiel: nash_conv(kuhn_poker, uniform random) = 0.916666... = 11/12, exploitability half that.
    assert float(tree.nash_conv(uniform)) == pytest.approx(11.0 / 12.0, abs=1e-6)
    assert float(tree.exploitability(uniform)) == pytest.approx(11.0 / 24.0, abs=1e-6)
    bets = jax.random.uniform(jax.random.PRNGKey(0), (3, tree.NUM_INFOSETS))
    for bet in bets:
        table = jnp.stack([1.0 - bet, bet], axis=1)
        game, theirs = _openspiel_policy(table)
        assert float(tree.nash_conv(table)) == pytest.approx(os_exploitability.nash_conv(game, theirs), abs=1e-5)
        assert float(tree.exploitability(table)) == pytest.approx(
            os_exploitability.exploitability(game, theirs), abs=1e-5
        )
    game, theirs = _openspiel_policy(uniform)
    assert float(tree.nash_conv(uniform)) == pytest.approx(os_exploitability.nash_conv(game, theirs), abs=1e-6)


def test_mixture_policy_is_realisation_equivalent_to_sampling_a_member():
    """Player 0 samples a member per game: the behaviour policy's payoff against any opponent is
    the weighted mean of the members' payoffs (a plain average of the tables would not be)."""
    # Player 0 always bets (its unreachable "pb" rows say fold), or checks and then calls.
    always_bet = tree.uniform_policy().at[0:6:2].set(jnp.array([0.0, 1.0])).at[1:6:2].set(jnp.array([1.0, 0.0]))
    check_call = tree.uniform_policy().at[0:6:2].set(jnp.array([1.0, 0.0])).at[1:6:2].set(jnp.array([0.0, 1.0]))
    opponent = tree.uniform_policy()  # (an equilibrium opponent makes calling and folding equal in sum)
    members = jnp.stack([always_bet, check_call]).at[:, 6:].set(opponent[6:])
    weights = jnp.array([0.3, 0.7])
    mixed = tree.mixture_policy(members, weights)
    expected = weights @ jax.vmap(tree.expected_payoffs)(members)
    np.testing.assert_allclose(tree.expected_payoffs(mixed), expected, atol=1e-6)
    plain = jnp.einsum("k,kia->ia", weights, members)
    assert abs(float(tree.expected_payoffs(plain)[0] - expected[0])) > 1e-3  # the naive average is wrong


def _state(cards):
    return KuhnState(
        key=jax.random.PRNGKey(0),
        step_count=jnp.int32(0),
        cards=jnp.asarray(cards, jnp.int32),
        history=jnp.full((3,), -1, jnp.int32),
        done=jnp.bool_(False),
    )


# (cards, moves of the players to act, player 0's payoff, showdown, pot)
HANDS = [
    ((2, 0), (0, 0), 1.0, True, 2.0),  # pp: King beats Jack for the ante
    ((0, 2), (0, 0), -1.0, True, 2.0),
    ((0, 1), (1, 0), 1.0, False, 3.0),  # bp: player 1 folds to the bet
    ((0, 1), (1, 1), -2.0, True, 4.0),  # bb: called, Queen beats Jack
    ((1, 2), (0, 1, 0), -1.0, False, 3.0),  # pbp: player 0 folds
    ((2, 1), (0, 1, 1), 2.0, True, 4.0),  # pbb: called, King wins
]


def test_env_transitions_masks_and_payoffs_on_hand_built_deals():
    env = marljax.make("cards/KuhnPoker-v0")
    step = jax.jit(env.step)
    for cards, moves, payoff, showdown, pot in HANDS:
        state = _state(cards)
        for t, move in enumerate(moves):
            actor = t % 2
            # The non-acting player's entry is ignored: put the opposite move there.
            state, timestep = step(state, jnp.asarray([move, 1 - move] if actor == 0 else [1 - move, move], jnp.int32))
            last = t == len(moves) - 1
            assert bool(timestep.last()) is last
            if not last:
                np.testing.assert_array_equal(timestep.reward, [0.0, 0.0])
                mask = np.asarray(timestep.observation.action_mask)
                np.testing.assert_array_equal(mask[1 - actor], [True, True])  # the next player decides
                np.testing.assert_array_equal(mask[actor], [True, False])  # only the no-op for the other
        np.testing.assert_array_equal(timestep.reward, [payoff, -payoff])
        np.testing.assert_array_equal(timestep.discount, [0.0, 0.0])
        metrics = timestep.extras["metrics"]
        assert float(metrics["showdown"]) == showdown and float(metrics["fold"]) == (not showdown)
        assert float(metrics["pot"]) == pot and float(metrics["player0_payoff"]) == payoff
        # Each player's view: own card, never the other's; the public history for both.
        view = np.asarray(timestep.observation.agents_view)
        for player in range(2):
            assert view[player, 2 + cards[player]] == 1.0 and view[player, 2:5].sum() == 1.0
        history = np.asarray(state.history)
        np.testing.assert_array_equal(history[: len(moves)], moves)


def test_the_rl_oracles_swapped_agent_order_is_the_same_game_seen_from_the_other_row():
    """PSRO's RL oracle trains player 1 in player 0's row (``AgentOrder`` with ``[1, 0]``): the same
    game, with every per-agent array's rows swapped and each row's action routed to its player."""
    env = marljax.make("cards/KuhnPoker-v0")
    swapped = AgentOrder(env, jnp.asarray(swapped_order([(0,), (1,)])))
    _, timestep = jax.jit(swapped.reset)(jax.random.PRNGKey(3))
    _, plain = jax.jit(env.reset)(jax.random.PRNGKey(3))
    for field in ("agents_view", "action_mask", "global_state", "agent_type"):
        np.testing.assert_array_equal(getattr(timestep.observation, field), getattr(plain.observation, field)[::-1])
    step = jax.jit(swapped.step)
    state, moves = _state((0, 2)), (0, 1, 1)  # Jack vs King: check, bet, call: player 0 loses 2
    for t, move in enumerate(moves):
        acting_row = 1 - t % 2  # player 0 sits in row 1; the other row gets the opposite move
        state, timestep = step(state, jnp.asarray([move, 1 - move] if acting_row == 0 else [1 - move, move]))
    np.testing.assert_array_equal(state.history, moves)
    np.testing.assert_array_equal(timestep.reward, [2.0, -2.0])  # rows: player 1, player 0
    np.testing.assert_array_equal(timestep.observation.agents_view[:, :2], [[0, 1], [1, 0]])


def test_views_name_the_infosets_and_tabular_play_matches_the_exact_value():
    """Playing a tabular policy through the env's observations (infoset_of_view) gives the tree's
    exact expected payoff, within 4 standard errors over 8192 games."""
    views = kuhn_env.infoset_views()
    np.testing.assert_array_equal(kuhn_env.infoset_of_view(jnp.asarray(views)), np.arange(tree.NUM_INFOSETS))
    assert len(set(map(tuple, views.tolist()))) == tree.NUM_INFOSETS
    env = marljax.make("cards/KuhnPoker-v0")
    # A lopsided policy: player 0 bets Kings and bluffs Jacks, player 1 calls too often.
    bet = jnp.array([0.8, 0.0, 0.1, 0.5, 1.0, 1.0, 0.5, 0.6, 0.2, 0.7, 1.0, 1.0])
    table = jnp.stack([1.0 - bet, bet], axis=1)

    def tabular(carry, observation, first, key):
        probs = table[kuhn_env.infoset_of_view(observation.agents_view)]  # [E, 2, 2]
        return carry, jax.random.categorical(key, jnp.log(probs)).astype(jnp.int32)

    batch = play_episodes(env, tabular, jax.random.PRNGKey(1), 8192)
    returns = np.asarray(batch.returns)
    np.testing.assert_allclose(returns.sum(axis=1), 0.0)  # zero-sum
    exact = float(tree.expected_payoffs(table)[0])
    assert abs(returns[:, 0].mean() - exact) < 4 * returns[:, 0].std() / np.sqrt(len(returns))
    assert abs(exact - float(tree.expected_payoffs(tree.uniform_policy())[0])) > 0.05  # not a trivial value
    np.testing.assert_allclose(np.asarray(batch.metrics["player0_payoff"]), returns[:, 0])


def test_bad_policy_table_is_a_clear_error():
    with pytest.raises(ValueError, match=r"\[12 infosets, 2 actions\]"):
        tree.check_policy(np.ones((6, 2)) / 2)
    with pytest.raises(ValueError, match="probability distribution"):
        tree.check_policy(np.ones((12, 2)))
    with pytest.raises(ValueError, match="alpha"):
        tree.equilibrium_policy(0.5)
