{#- The dispatch measures summed over a group of dispatch_effectiveness rows (the daily, per
    make and per EVSE marts share them; sql/README.md defines each). -#}
{% macro dispatch_counts() %}
        ---------- attempts
        count(*) as count_attempts,
        count(*) filter (where is_sent) as count_sent,

        ---------- state change (outcome)
        count(*) filter (where outcome = 'not_sent') as count_not_sent,
        count(*) filter (where outcome = 'no_telemetry') as count_no_telemetry,
        count(*) filter (where outcome = 'effective') as count_effective,
        count(*) filter (where outcome = 'no_response') as count_no_response,
        median(response_seconds) as median_response_seconds,
        quantile_cont(response_seconds, 0.9) as p90_response_seconds,

        ---------- compliance
        count(*) filter (where compliance = 'no_target') as count_no_target,
        count(*) filter (where compliance = 'unknown') as count_compliance_unknown,
        count(*) filter (where compliance = 'complied') as count_complied,
        count(*) filter (where compliance = 'not_complied') as count_not_complied,
        median(compliance_seconds) as median_compliance_seconds,

        ---------- target_outcome
        count(*) filter (where target_outcome = 'no_telemetry') as count_target_no_telemetry,
        count(*) filter (where target_outcome = 'held') as count_target_held,
        count(*) filter (where target_outcome = 'reached') as count_target_reached,
        count(*) filter (where target_outcome = 'not_reached') as count_target_not_reached,
        median(target_response_seconds) as median_target_response_seconds,

        ---------- failure side
        count(*) filter (where failure_side = 'charger') as count_charger_failures,
        count(*) filter (where failure_side = 'vehicle') as count_vehicle_failures,
{% endmacro %}

{% macro dispatch_rates(prefix='') %}
        {{ prefix }}count_effective
        / nullif({{ prefix }}count_effective + {{ prefix }}count_no_response, 0)
            as effectiveness_rate,
        {{ prefix }}count_complied
        / nullif({{ prefix }}count_complied + {{ prefix }}count_not_complied, 0)
            as compliance_rate,
        ({{ prefix }}count_target_reached + {{ prefix }}count_target_held)
        / nullif(
            {{ prefix }}count_target_reached
            + {{ prefix }}count_target_held
            + {{ prefix }}count_target_not_reached,
            0
        ) as target_success_rate,
{% endmacro %}

{#- Pre-hook of the daily marts: delete the days from the first that can have changed. -#}
{% macro delete_changed_days() -%}
    {%- if is_incremental() -%}
        {%- set first = first_changed_dispatch_date() -%}
        delete from {{ this }}
        where date >= {{ "cast('" ~ first ~ "' as date)" if first is not none
            else "cast('infinity' as date)" }}
    {%- endif -%}
{%- endmacro %}

{#- The filter of the rows the daily marts recompute. -#}
{% macro changed_days_filter(column='date') -%}
    {%- if is_incremental() -%}
        {%- set first = first_changed_dispatch_date() -%}
        where {{ column }} >= {{ "cast('" ~ first ~ "' as date)" if first is not none
            else "cast('infinity' as date)" }}
    {%- endif -%}
{%- endmacro %}
