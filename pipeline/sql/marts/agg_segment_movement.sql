-- Segment movement for the monthly report: how many members moved from each RFM segment
-- at the end of the previous month to each segment at the end of the reporting month.
-- Grain: one row per (previous_segment, current_segment) pair with at least one member.
--
-- Relations: stg_members (member_id), int_rfm (int_rfm.sql at both month ends).
-- Parameters: $previous_at and $current_at (the two cut-off moments: the first day of
-- the reporting month and of the month after it), $no_purchase (the segment of members
-- without a transaction before the cut-off). Every member counts once.
with

members as (
    select member_id
    from stg_members
),

rfm as (
    select cutoff_at, member_id, rfm_segment
    from int_rfm
),

paired as (
    select
        members.member_id,
        coalesce(previous.rfm_segment, $no_purchase) as previous_segment,
        coalesce(current.rfm_segment, $no_purchase)  as current_segment
    from members
    left join rfm as previous
        on previous.member_id = members.member_id and previous.cutoff_at = $previous_at
    left join rfm as current
        on current.member_id = members.member_id and current.cutoff_at = $current_at
),

final as (
    select
        previous_segment::varchar as previous_segment,
        current_segment::varchar  as current_segment,
        count(*)                  as members
    from paired
    group by all
)

select * from final
order by previous_segment, current_segment
