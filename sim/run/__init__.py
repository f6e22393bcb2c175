"""Many trials in chunks, in this process, in local worker processes or on a Dask cluster;
Ctrl-C and SIGTERM between units of work.

May import ``sim.stats``, ``sim.report`` and the layers below them.
"""
