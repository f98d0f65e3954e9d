-- anniversaries: membership (join_date) and ownership (move_in_date) anniversaries inside
-- the edition window [$window_start, $window_end].
-- Grain: one row per member, kind and anniversary (one per member and kind for a month
-- window).
-- Rules: whole years of 1 or more, and only every $membership_every / $ownership_every
-- years (5: the 5th, 10th, ...; 0 turns the kind off); a 29 February date falls on
-- 28 February in common years (CONTRACT §3).
-- Order: membership before ownership, then by date and member_id.

with

members as (
    select member_id, join_date::date as join_date, move_in_date::date as move_in_date
    from stg_members
),

window_days as (
    select day::date as day
    from generate_series($window_start::timestamp, $window_end::timestamp, interval 1 day) as t(day)
),

since_dates as (
    select member_id, 'membership' as kind, 1 as kind_order, join_date as since_date,
           $membership_every::integer as every
    from members
    where join_date is not null and $membership_every > 0
    union all
    select member_id, 'ownership', 2, move_in_date, $ownership_every::integer
    from members
    where move_in_date is not null and $ownership_every > 0
),

hosts as (
    -- the dates each window day marks: its own month and day, and on 28 February of a
    -- common year also 29 February
    select day as anniversary_date, month(day) as since_month, day(day) as since_day
    from window_days
    union all
    select day, 2, 29
    from window_days
    where month(day) = 2 and day(day) = 28 and day(last_day(day)) = 28
),

occurrences as (
    select
        s.member_id,
        h.anniversary_date,
        year(h.anniversary_date) - year(s.since_date)   as years,
        s.kind,
        s.kind_order,
        s.every
    from since_dates as s
    inner join hosts as h
        on month(s.since_date) = h.since_month
       and day(s.since_date) = h.since_day
),

final as (
    select
        member_id::varchar          as member_id,
        anniversary_date::date      as anniversary_date,
        years::bigint               as years,
        kind::varchar               as kind
    from occurrences
    where years >= 1 and years % every = 0
    order by kind_order, anniversary_date, member_id
)

select * from final
