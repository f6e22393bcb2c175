"""Experiments over policies and fault schedules: sweeps over a grid, fault-schedule search
(Hypothesis) and the scenario it found, and policy tuning (``sim.studies.tune``).

May import ``sim.run`` and the layers below it; not ``sim.check`` or ``sim.bench``.
"""
