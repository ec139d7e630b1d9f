-- dispatch_effectiveness: compliance is one of the values sql/README.md defines, never null.
-- Returns every row with another value.
select *
from analytics.dispatch_effectiveness
where
    compliance is null
    or compliance not in (
        'not_sent',
        'no_target',
        'unknown',
        'complied',
        'not_complied',
    )
