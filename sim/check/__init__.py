"""``[expect]`` claims as tests: judging bounds, ``rassim check``, JUnit XML, determinism checks
and the pytest plugin.

May import ``sim.run`` and the layers below it; not ``sim.studies`` or ``sim.bench``.
"""
