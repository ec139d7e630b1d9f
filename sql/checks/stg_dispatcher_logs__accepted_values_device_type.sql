-- stg_dispatcher_logs: device_type is one of the values sql/README.md defines, never null.
-- Returns every row with another value.
select *
from analytics.stg_dispatcher_logs
where
    device_type is null
    or device_type not in (
        'EVSE',
        'VEHICLE',
    )
