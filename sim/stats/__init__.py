"""Statistics over rows: mergeable integer summaries, fleet metrics, Wilson and paired
intervals, per-policy metrics and adaptive stopping.

May import ``sim.trial`` (the row) and the layers below it; not ``sim.report``.
"""
