"""Matrix games: the payoff catalog, generators, and the repeated game as an env."""

import inspect

import jax

from marljax.envs.matrix import games
from marljax.envs.matrix.env import MatrixGame, MatrixGameState
from marljax.envs.matrix.games import *  # noqa: F401,F403
from marljax.envs.matrix.games import CATALOG, NASH_EQUILIBRIA
from marljax.envs.matrix.loader import load_game
from marljax.registry import register

__all__ = ["MatrixGame", "MatrixGameState", "games", "load_game", "CATALOG", "NASH_EQUILIBRIA"] + games.__all__


def _default_game():
    # A 3-player game with 2, 3 and 4 actions: exercises n players and padded action masks.
    return games.random_general_sum(jax.random.PRNGKey(0), (2, 3, 4))


def _matrix_game(payoffs=None, horizon: int = 10):
    return MatrixGame(_default_game() if payoffs is None else payoffs, horizon)


def _named(game_fn):
    def factory(horizon: int = 10, **game_kwargs):
        return MatrixGame(game_fn(**game_kwargs), horizon)

    # The registry checks user options against this signature: the horizon and the game's own
    # parameters (e.g. stag_stag for the stag hunt), nothing else.
    horizon = inspect.Parameter("horizon", inspect.Parameter.KEYWORD_ONLY, default=10, annotation=int)
    game_parameters = [p.replace(kind=p.KEYWORD_ONLY) for p in inspect.signature(game_fn).parameters.values()]
    factory.__signature__ = inspect.Signature([horizon, *game_parameters])
    return factory


register(
    "matrix/MatrixGame-v0",
    _matrix_game,
    "repeated normal-form game of any payoff tensor [n, A_1..A_n] (default: random 3-player 2x3x4)",
)
_NAMES = {
    "prisoners_dilemma": ("PrisonersDilemma-v0", "prisoner's dilemma (R,S,T,P = 3,0,5,1), repeated"),
    "stag_hunt": ("StagHunt-v0", "stag hunt (4/0/3/3; parametrised), repeated"),
    "chicken": ("Chicken-v0", "chicken (swerve/straight, crash -10), repeated"),
    "battle_of_the_sexes": ("BattleOfTheSexes-v0", "battle of the sexes (3/2 vs 2/3), repeated"),
    "matching_pennies": ("MatchingPennies-v0", "matching pennies (zero-sum), repeated"),
    "rock_paper_scissors": ("RockPaperScissors-v0", "rock-paper-scissors (zero-sum), repeated"),
    "biased_rps": ("BiasedRPS-v0", "biased rock-paper-scissors, NE (1,10,5)/16, repeated"),
    "shapley_game": ("ShapleyGame-v0", "Shapley's 3x3 game (fictitious play cycles), repeated"),
    "high_risk_game": ("HighRisk-v0", "gamble/safe vs normal/trap: rare catastrophe, only a mixed NE, repeated"),
}
for _key, (_name, _description) in _NAMES.items():
    register(f"matrix/{_name}", _named(CATALOG[_key]), _description)
