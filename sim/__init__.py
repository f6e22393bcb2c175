"""rassim's world: a SimPy model of a RAS server, a slow SNA link, NetBT name resolution
and an SMB server, which drives the real sender procedure from ``sender``."""

__version__ = "0.1.0"
