{#- A compound key is unique: one row per combination of `columns` (dbt's own `unique` takes
    one column). Returns every duplicated combination. -#}
{% test unique_key(model, columns) %}

select
    {{ columns | join(', ') }},
    count(*) as count_rows,
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
