"""The SimPy model one trial runs in: RAS ports and dial phases, the link, the name path and
NetBT, SMB, faults, the World that wires them, the SimPy driver and the tracer.

May import ``sim.scenario``, ``sim.draws`` and ``sender``.
"""
