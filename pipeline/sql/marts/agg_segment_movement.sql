-- Segment movement for the monthly report: how many members moved from each RFM segment
-- at the end of the previous month to each segment at the end of the reporting month.
-- Grain: one row per (previous_segment, current_segment) pair with at least one member.
--
-- Relations: stg_members (member_id), rfm_previous and rfm_current (int_rfm.sql before
-- the first day of the reporting month and before the first day of the month after it).
-- Parameter: $no_purchase (the segment of members without a transaction before the
-- cut-off). Every member counts once.
with

members as (
    select member_id
    from stg_members
),

previous as (
    select member_id, rfm_segment
    from rfm_previous
),

current as (
    select member_id, rfm_segment
    from rfm_current
),

paired as (
    select
        members.member_id,
        coalesce(previous.rfm_segment, $no_purchase) as previous_segment,
        coalesce(current.rfm_segment, $no_purchase)  as current_segment
    from members
    left join previous on previous.member_id = members.member_id
    left join current on current.member_id = members.member_id
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
