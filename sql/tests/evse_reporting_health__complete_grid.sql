-- evse_reporting_health: every EVSE has one row per UTC day from the day of its first status
-- log to the last loaded day, its first day reported. Returns every EVSE that breaks this.
with

days as (

    select
        evse_id,
        count(*) as count_days,
        min(date) as first_date,
        max(date) as last_date,
        min(date) filter (where count_samples > 0) as first_reporting_date,

    from {{ ref('evse_reporting_health') }}
    group by evse_id

),

-- the raw table, not the deduplicating view: the same EVSEs and days, read far cheaper
status_logs as (

    select
        cast(evse_id as varchar) as evse_id,
        cast(timezone('UTC', min(sampled_at)) as date) as first_sampled_date,

    from {{ source('evenergy', 'status_logs') }}
    where evse_id is not null and sampled_at is not null
    group by all

),

last_loaded as (

    select cast(timezone('UTC', max(sampled_at)) as date) as last_date
    from {{ source('evenergy', 'status_logs') }}

)

select
    status_logs.evse_id,
    days.count_days,
    days.first_date,
    days.last_date,
from status_logs
cross join last_loaded
left join days
    on status_logs.evse_id = days.evse_id
where
    days.evse_id is null
    or days.first_date <> status_logs.first_sampled_date
    or days.first_reporting_date <> days.first_date
    or days.last_date <> last_loaded.last_date
    or days.count_days <> days.last_date - days.first_date + 1
