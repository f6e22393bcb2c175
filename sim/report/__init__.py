"""Files and text: atomic output files, per-trial row sinks (CSV/Parquet) and trace rendering
(timeline, Sender.log lines, JSON lines).

May import ``sim.trial`` and the layers below it; not ``sim.stats``.
"""
