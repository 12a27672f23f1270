"""sf_emulator: Salesforce orgs on loopback over HTTPS, for tests, the demo and the benchmark.

Start it with ``python -m sf_emulator --port 0 --orgs 3 --info-file emu.json``; see docs/emulator.md.
"""

__version__ = "0.1.0"
