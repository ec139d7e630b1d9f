-- int_reporting_changes: one row per EVSE that received status logs since the previous build
-- (a _dlt_load_id newer than since_load_id), with the first UTC day evse_reporting_health
-- recomputes for it: the day of its oldest new sample, or the first day that was provisional
-- in the previous build, whichever is earlier. Other EVSEs are recomputed from that
-- provisional day. Without since_load_id every EVSE is listed, from its first day.
-- key: evse_id
{%- set since = since_load_id() %}
with

new_samples as (

    select
        cast(evse_id as varchar) as evse_id,
        min(sampled_at) as first_new_sampled_at,

    from {{ source('evenergy', 'status_logs') }}
    {%- if since %}
    where _dlt_load_id > {{ since }}
    {%- endif %}
    group by all

),

final as (

    select
        evse_id,
        {%- if since %}
        least(
            date '1970-01-01' + cast(epoch_us(first_new_sampled_at) // 86400000000 as integer),
            {{ provisional_from_date() }}
        ) as recompute_from,
        {%- else %}
        cast('-infinity' as date) as recompute_from,
        {%- endif %}

    from new_samples
    where evse_id is not null

)

select * from final
