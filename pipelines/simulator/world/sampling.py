"""Status-log sampling: turns the simulated state into one compact row every interval.

What a row reports (nulls are drawn independently, about 2% each for ``is_plugged_in``,
``is_charging`` and ``charge_rate_watts``, 1% for the voltage; null always means unknown):

- ``charge_rate_watts`` = effective current x measured voltage, +-1% noise, 0 when not drawing;
- ``meter_reading_watt_hours`` = the charger's cumulative energy (monotonic);
- ``is_enabled`` / ``max_current_rating_milliamps`` = the configured state (exactly the last
  applied command's target);
- ``state_of_charge_percentage`` only for chargers that can read it, while plugged in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipelines.simulator.world.records import NULL_BOOL, NULL_INT
from pipelines.simulator.world.times import US_PER_SECOND

if TYPE_CHECKING:
    from pipelines.simulator.world.physics import Simulation

_JITTER_US = 15 * US_PER_SECOND


class Sampler:
    """Writes status-log rows of a simulation into its table."""

    def __init__(self, sim: Simulation) -> None:
        """Bind to a simulation that has a table and a lag model.

        Args:
            sim: The simulation to sample.

        Raises:
            ValueError: If the simulation has no table or no lag model.
        """
        if sim.table is None or sim.lag is None:
            raise ValueError("sampling needs a status table and a lag model")
        self.sim, self.table, self.lag = sim, sim.table, sim.lag
        self.random = sim.rng.random
        self.k = 0

    def next_time(self) -> int:
        """The next sample time: the cadence grid, jittered by up to 15 s (never before join).

        Returns:
            Microseconds since the epoch.
        """
        base = self.sim.spec.joined_us + self.k * self.sim.interval
        jitter = (
            int((self.random() * 2 - 1) * _JITTER_US) if self.k else int(self.random() * _JITTER_US)
        )
        self.k += 1
        return base + jitter

    def emit(self, t: int) -> None:
        """Append the row sampled at t (the simulation has been advanced to t).

        Args:
            t: The sample time.
        """
        sim, tb, r = self.sim, self.table, self.random
        ma = sim.eff_ma
        voltage = 230_000 + int((r() - 0.5) * 6_000)
        rate = int(ma * voltage / 1e6 * (1 + (r() - 0.5) * 0.02)) if ma else 0
        plugged = 1 if sim.plugged else 0
        charging = 1 if ma else 0
        u = r()
        if u < 0.06:
            which = int(u / 0.02)
            if which == 0:
                plugged = NULL_BOOL
            elif which == 1:
                charging = NULL_BOOL
            else:
                rate = NULL_INT
        tb.sampled.append(t)
        tb.logged.append(self.lag(t))
        tb.plugged.append(plugged)
        tb.charging.append(charging)
        tb.rate.append(rate)
        tb.meter.append(int(sim.meter_wh))
        tb.enabled.append(1 if sim.enabled else 0)
        tb.max_ma.append(sim.charger_ma)
        sim.rssi = min(-45, max(-95, sim.rssi + int(r() * 5) - 2))
        tb.rssi.append(sim.rssi)
        tb.inlet.append(300 + int(r() * 1500) + (rate if rate > 0 else 0))
        tb.voltage.append(NULL_INT if r() < 0.01 else voltage)
        soc = int(100 * sim.soc_wh / sim.cap_wh) if sim.plugged and sim.spec.reports_soc else -1
        tb.soc.append(soc if soc >= 0 else NULL_BOOL)
