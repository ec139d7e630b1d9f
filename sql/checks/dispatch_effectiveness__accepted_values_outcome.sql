-- dispatch_effectiveness: outcome is one of the values sql/README.md defines, never null.
-- Returns every row with another value.
select *
from analytics.dispatch_effectiveness
where
    outcome is null
    or outcome not in (
        'not_sent',
        'no_telemetry',
        'effective',
        'no_response',
    )
