-- complaint_anomalies: complaints whose timestamps contradict each other.
-- Grain: one row per (complaint, problem), for complaints received before the cut-off
-- and those without a receipt time; ordered by complaint_id, then problem in the order
-- listed here:
--   missing_received_at             no receipt time: the complaint is counted nowhere
--   first_response_before_received  a negative duration: left out of every median and
--   resolved_before_received          of the SLA leg it belongs to
--   closed_without_resolved_at      status resolved or closed with a blank resolved_at:
--                                     never open at a month end, resolution leg unknown
-- Relations: complaints (stg_complaints). Parameters: $cutoff_at.
with

-- import CTEs ---------------------------------------------------------------------------

source as (
    select
        nullif(trim(complaint_id), '') as complaint_id,
        lower(nullif(trim(status), '')) as status,
        received_at::timestamp as received_at,
        first_response_at::timestamp as first_response_at,
        resolved_at::timestamp as resolved_at
    from complaints
    where received_at is null or received_at < $cutoff_at
),

-- logic CTEs ----------------------------------------------------------------------------

problems as (
    select complaint_id, 1 as problem_order, 'missing_received_at' as problem
    from source
    where received_at is null
    union all
    select complaint_id, 2, 'first_response_before_received'
    from source
    where first_response_at < received_at
    union all
    select complaint_id, 3, 'resolved_before_received'
    from source
    where resolved_at < received_at
    union all
    select complaint_id, 4, 'closed_without_resolved_at'
    from source
    where status in ('resolved', 'closed') and resolved_at is null
),

final as (
    select complaint_id, problem, problem_order
    from problems
)

select complaint_id, problem from final
order by complaint_id, problem_order
