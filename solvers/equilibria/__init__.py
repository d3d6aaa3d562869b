"""Equilibrium solvers: from a payoff tensor to a profile with its NashConv.

Read in this order: :mod:`.lp` and :mod:`.pivoting` (the dense simplex and pivoting steps
the exact solvers share), :mod:`.zero_sum` (two-player zero-sum LP), :mod:`.lemke_howson`
(two-player general-sum), :mod:`.support_enumeration` (every equilibrium of a small game),
:mod:`.correlated` (CE/CCE LPs), :mod:`.alpharank` (alpha-Rank), :mod:`.rae` (risk-averse
equilibria). :mod:`.nash` gathers the Nash solvers beside the game functions.
"""
