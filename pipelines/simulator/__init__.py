"""An HTTP simulator of the ev.energy v2 REST API, for demos, integration tests, fault
injection and benchmarks of the extraction pipeline.

Deterministic from a seed, driven by a controllable simulated clock, served over real HTTP on
loopback, with a ground truth (:class:`World`) to compute expected rows independently of the
pipeline. See ``README.md`` beside this file.
"""

from pipelines.simulator.config import SimulatorConfig
from pipelines.simulator.http.faults import Faults
from pipelines.simulator.http.server import SimulatorServer, serve
from pipelines.simulator.world.catalog import MAX_LOG_LAG
from pipelines.simulator.world.clock import Clock
from pipelines.simulator.world.world import World

__all__ = ["MAX_LOG_LAG", "Clock", "Faults", "SimulatorConfig", "SimulatorServer", "World", "serve"]
