"""The simulator's world: the fleet, each charger's physics and dispatches, its lazily
generated history, the simulated clock, and the ground truth (:class:`World`) tests compare
the API with. Nothing here knows HTTP; :mod:`pipelines.simulator.http` serves it.
"""

from pipelines.simulator.world.world import World

__all__ = ["World"]
