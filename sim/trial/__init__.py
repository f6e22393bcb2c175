"""One trial, a lone sender or a fleet, from (scenario, policy, seed, index) to one flat row.

May import ``sim.world`` and the layers below it.
"""
