-- complaint_clock_span: the days the complaint SLA clocks need dim_working_day to cover.
-- Grain: one row: the day of the first complaint received before the cut-off (NULL when
-- there is none) and the day of the cut-off instant itself (ages run up to it).
-- Relations: complaints (stg_complaints). Parameters: $cutoff_at.
with

received as (
    select received_at::timestamp as received_at
    from complaints
    where received_at < $cutoff_at
),

final as (
    select min(received_at)::date as first_day, $cutoff_at::timestamp::date as last_day
    from received
)

select * from final
