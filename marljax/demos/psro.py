"""Demo section: PSRO-RAE against PSRO-Nash on the high-risk game (rare catastrophe)."""

from __future__ import annotations

import numpy as np

from marljax.envs.matrix import high_risk_game
from marljax.solvers import nash, psro, rae
from marljax.viz import save_figure

ITERATIONS, GAMMA = 5, 0.5


def run(out_dir, key) -> dict:
    del key  # PSRO with the exact oracle is deterministic
    game = high_risk_game()
    runs = {
        "PSRO-Nash": psro.run(game, "nash", ITERATIONS),
        f"PSRO-RAE (gamma={GAMMA})": psro.run(game, "rae", ITERATIONS, gamma=GAMMA),
    }
    figures = {}
    for name, result in runs.items():
        figures[name] = {
            "profile": [np.asarray(p).round(4).tolist() for p in result.profile],
            "nash_conv": np.asarray(psro.nash_conv_curve(result)).tolist(),
            "reward_variance": np.asarray(rae.reward_variance(game, result.profile)).tolist(),
            "expected_payoff": np.asarray(nash.expected_payoffs(game, result.profile)).tolist(),
        }
    _plot(figures, out_dir / "psro_rae_high_risk.png")
    nash_name, rae_name = list(figures)
    return {
        "summary": {
            "variance_nash": _rounded(figures[nash_name]["reward_variance"]),
            "variance_rae": _rounded(figures[rae_name]["reward_variance"]),
            "payoff_rae": _rounded(figures[rae_name]["expected_payoff"]),
        },
        "runs": figures,
        "plots": ["psro_rae_high_risk.png"],
    }


def _rounded(values):
    return [round(v, 3) for v in values]


def _plot(figures: dict, path) -> None:
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for name, f in figures.items():
        left.plot(np.maximum(f["nash_conv"], 1e-9), marker="o", label=name)
    left.set_yscale("log")
    left.set_xlabel("PSRO iteration")
    left.set_ylabel("NashConv of the meta-strategy")
    left.set_title("exploitability (RAE is not a Nash equilibrium)")
    left.legend(fontsize=8)
    width = 0.35
    for k, (name, f) in enumerate(figures.items()):
        x = np.arange(2) + (k - 0.5) * width
        bars = right.bar(x, f["reward_variance"], width, label=name)
        for bar, payoff in zip(bars, f["expected_payoff"]):
            right.annotate(
                f"E={payoff:.2f}",
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize=7,
            )
    right.set_xticks(range(2), ["row (gamble/safe)", "column (normal/trap)"])
    right.set_ylabel("reward variance")
    right.set_title("high-risk game: variance and expected payoff")
    right.legend(fontsize=8)
    save_figure(fig, path)
