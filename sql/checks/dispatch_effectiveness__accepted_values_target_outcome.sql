-- dispatch_effectiveness: target_outcome is one of the values sql/README.md defines, never null.
-- Returns every row with another value.
select *
from analytics.dispatch_effectiveness
where
    target_outcome is null
    or target_outcome not in (
        'not_sent',
        'no_target',
        'no_telemetry',
        'held',
        'reached',
        'not_reached',
    )
