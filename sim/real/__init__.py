"""The real stack: the unchanged sender against real nmbd (WINS) and smbd over a user-space
wire, trial by trial paired with the simulation (``rassim real``).

Needs root, ``/dev/net/tun``, Samba's smbd and nmbd, and the ``real`` extra (pysmb). Modules:
``bed`` (namespaces, TUN devices, daemons), ``wire`` (the link), ``netbt`` (NT 4.0's
resolver timers), ``smbclient`` (SYN schedule and SMB1 session), ``codes`` (failures to
Win32 codes), ``world`` (trial i's draws), ``performer``, ``run`` and ``compare``.

May import ``sim.stats``, ``sim.trial``, ``sim.world``, ``sim.scenario``, ``sim.draws`` and
``sender``.
"""
