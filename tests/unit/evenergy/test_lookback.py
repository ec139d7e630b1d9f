"""The gap-aware lookback: re-read from the oldest open gap, else only a little."""

from datetime import UTC, datetime, timedelta

from pipelines.evenergy.lookback import Lookback
from pipelines.evenergy.state import Partition

FLOOR = datetime(2026, 11, 1, tzinfo=UTC)
SIX_HOURS = Lookback(maximum=timedelta(hours=6), minimum=timedelta(minutes=10), gap_aware=True)


def at(hours: float) -> datetime:
    return FLOOR + timedelta(hours=hours)


def samples(start: float, end: float, every_minutes: float = 5) -> list[datetime]:
    count = int((end - start) * 60 / every_minutes) + 1
    return [at(start) + timedelta(minutes=every_minutes * i) for i in range(count)]


def test_a_new_partition_starts_at_the_floor():
    assert SIX_HOURS.since(None, FLOOR) == FLOOR


def test_a_plain_lookback_is_the_maximum():
    state = Partition(cursor=at(30))
    assert Lookback(timedelta(hours=6)).since(state, FLOOR) == at(24)


def test_without_knowledge_of_gaps_the_full_lookback_applies():
    assert SIX_HOURS.since(Partition(cursor=at(30)), FLOOR) == at(24)
    unknown = Partition(cursor=at(30), gaps_known=False, hold=at(29))
    assert SIX_HOURS.since(unknown, FLOOR) == at(24)


def test_no_gap_means_only_the_minimum():
    state = Partition(cursor=at(30))
    SIX_HOURS.remember(state, samples(20, 30), at(30))
    assert state.gaps_known and state.hold is None
    assert state.interval_seconds == 300
    assert SIX_HOURS.since(state, FLOOR) == at(30) - timedelta(minutes=10)


def test_an_open_gap_holds_the_read_at_its_start():
    state = Partition(cursor=at(30))
    read = samples(20, 26) + samples(28, 30)  # offline from 26:00 to 28:00
    SIX_HOURS.remember(state, read, at(30))
    assert state.gaps_known and state.hold == at(26)
    assert SIX_HOURS.since(state, FLOOR) == at(26)


def test_a_hold_never_reaches_further_back_than_the_maximum():
    state = Partition(cursor=at(40), gaps_known=True, hold=at(26), interval_seconds=300)
    assert SIX_HOURS.since(state, FLOOR) == at(34)


def test_gaps_older_than_the_maximum_are_given_up():
    state = Partition()
    read = samples(20, 22) + samples(25, 30)  # gap 22:00-25:00, more than 6 h before 30:00 + 1
    SIX_HOURS.remember(state, read, at(31))
    assert state.gaps_known and state.hold is None


def test_jitter_is_not_a_gap():
    state = Partition()
    read = [at(0) + timedelta(seconds=300 * i + (15 if i % 2 else -15)) for i in range(40)]
    SIX_HOURS.remember(state, read, read[-1])
    assert state.gaps_known and state.hold is None


def test_too_few_samples_keep_the_interval_unknown():
    state = Partition()
    SIX_HOURS.remember(state, samples(0, 0.1), at(0.1))
    assert not state.gaps_known


def test_a_plain_lookback_remembers_nothing():
    state = Partition()
    Lookback(timedelta(0)).remember(state, samples(0, 5), at(5))
    assert state == Partition()
