"""The simulator's HTTP layer: the loopback server, request handling, the API's endpoints,
Link pagination, OAuth, the rate limit and the fault switches, over a
:class:`pipelines.simulator.world.World`.
"""
