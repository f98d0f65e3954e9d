-- The `churn_risk` mart: valuable members who are lapsing, lapsed or have an unresolved
-- complaint, with the reason. Grain: one row per such member; highest score first, ties
-- in member_id order.
--
-- Relations: segments (the segments mart), stg_complaints (member_id, received_at,
-- resolved_at, status). Parameters: $as_of (the cut-off day), $valuable_tiers,
-- $valuable_segments.
--
-- Valuable: a tier in $valuable_tiers or an RFM segment in $valuable_segments.
-- Unresolved complaint: received before the midnight after the cut-off day, with status
-- open or reopened, or with neither a status nor a resolved_at. The reason joins
-- 'lapsing' or 'lapsed' and 'open_complaint' with '+'.
with

scored as (
    select member_id, score, tier, rfm_segment, lifecycle_stage
    from segments
),

complaints as (
    select member_id, received_at::timestamp as received_at,
           resolved_at::timestamp as resolved_at, status
    from stg_complaints
),

cutoff as (
    select $as_of::date + interval 1 day as cutoff_at
),

with_open_complaint as (
    select distinct complaints.member_id
    from complaints, cutoff
    where complaints.member_id is not null
      and complaints.received_at < cutoff.cutoff_at
      and (complaints.status in ('open', 'reopened')
           or (complaints.status is null and complaints.resolved_at is null))
),

flagged as (
    select
        scored.*,
        scored.lifecycle_stage in ('lapsing', 'lapsed')       as is_lapsing_or_lapsed,
        with_open_complaint.member_id is not null                as has_open_complaint
    from scored
    left join with_open_complaint using (member_id)
    where list_contains($valuable_tiers, scored.tier)
       or list_contains($valuable_segments, scored.rfm_segment)
),

final as (
    select
        member_id,
        concat_ws('+',
                  case when is_lapsing_or_lapsed then lifecycle_stage end,
                  case when has_open_complaint then 'open_complaint' end)::varchar as reason,
        score,
        tier,
        rfm_segment,
        lifecycle_stage
    from flagged
    where is_lapsing_or_lapsed or has_open_complaint
)

select * from final
order by score desc, member_id
