-- upcoming_birthdays: every birthday, solar or lunar, inside the edition window
-- [$window_start, $window_end], with the age reached and whether it is a milestone
-- ($milestones, a list of ages).
-- Grain: one row per member and birthday (one per member for a month window; a window
-- longer than a lunar year can hold two lunar birthdays of one member).
-- Rules (CONTRACT §3):
--   * a solar 29 February falls on 28 February in common years;
--   * a lunar birthday is the lunar month and day of birth in each lunar year; a lunar
--     year's 11th and 12th months can fall in January or February of the next
--     Gregorian year, so the lunar side works on the lunar dates of the window's days;
--   * a leap-month birthday falls in the ordinary month of that number when the lunar
--     year has no such leap month;
--   * lunar day 30 falls on day 29 when the month has only 29 days;
--   * age counts Gregorian years for solar birthdays, lunar years for lunar ones; age 0
--     (the birth itself) or less is no birthday.
-- A lunar birth is read from `birth_lunar` (its lunar year-month-day as text, since a
-- lunar 2-30 is no Gregorian date), `birth_date` being its Gregorian day of birth.
-- The window must lie inside dim_lunar_day (1900-01-31..2100-12-31).

with

members as (
    select
        member_id,
        birth_date::date                        as birth_date,
        birth_calendar = 'lunar'                as is_lunar,
        birth_lunar,
        coalesce(is_birth_lunar_leap, false)    as is_birth_lunar_leap
    from stg_members
),

window_lunar_days as (
    select solar_date, lunar_year, lunar_month, lunar_day, is_leap_month, lunar_month_days,
           leap_month_of_year
    from dim_lunar_day
    where solar_date between $window_start and $window_end
),

window_days as (
    select day::date as day
    from generate_series($window_start::timestamp, $window_end::timestamp, interval 1 day) as t(day)
),

solar_births as (
    select
        member_id,
        year(birth_date)    as birth_year,
        month(birth_date)   as birth_month,
        day(birth_date)     as birth_day
    from members
    where not coalesce(is_lunar, false)
      and birth_date is not null
),

lunar_births as (
    select
        member_id,
        try_cast(split_part(trim(birth_lunar), '-', 1) as integer)  as birth_year,
        try_cast(split_part(trim(birth_lunar), '-', 2) as integer)  as birth_month,
        try_cast(split_part(trim(birth_lunar), '-', 3) as integer)  as birth_day,
        is_birth_lunar_leap                                         as is_leap
    from members
    where is_lunar
),

solar_hosts as (
    -- the solar births each window day celebrates: those of its own month and day, and on
    -- 28 February of a common year also those of 29 February
    select day as birthday, month(day) as birth_month, day(day) as birth_day
    from window_days
    union all
    select day, 2, 29
    from window_days
    where month(day) = 2 and day(day) = 28 and day(last_day(day)) = 28
),

lunar_day_hosts as (
    -- the lunar birth days each window day celebrates: its own, and on the 29th of a
    -- 29-day month also the 30th
    select *, lunar_day::integer as birth_day
    from window_lunar_days
    union all
    select *, 30
    from window_lunar_days
    where lunar_day = 29 and lunar_month_days = 29
),

lunar_hosts as (
    -- births in a month of the same kind (ordinary or leap) and number; an ordinary month
    -- also celebrates the leap-month births of its number when the year has no such leap
    -- month
    select solar_date as birthday, lunar_year, lunar_month::integer as birth_month, birth_day,
           is_leap_month as is_leap
    from lunar_day_hosts
    union all
    select solar_date, lunar_year, lunar_month::integer, birth_day, true
    from lunar_day_hosts
    where not is_leap_month
      and leap_month_of_year is distinct from lunar_month
),

solar_birthdays as (
    select
        b.member_id,
        h.birthday,
        'solar'                         as calendar,
        year(h.birthday) - b.birth_year as age
    from solar_births as b
    inner join solar_hosts as h using (birth_month, birth_day)
),

lunar_birthdays as (
    select
        b.member_id,
        h.birthday,
        'lunar'                         as calendar,
        h.lunar_year - b.birth_year     as age
    from lunar_births as b
    inner join lunar_hosts as h using (birth_month, birth_day, is_leap)
),

final as (
    select
        member_id::varchar                                  as member_id,
        birthday::date                                      as birthday,
        calendar::varchar                                   as calendar,
        age::bigint                                         as age,
        coalesce(list_contains($milestones, age), false)    as milestone
    from (
        select * from solar_birthdays
        union all
        select * from lunar_birthdays
    )
    where age >= 1
    order by birthday, member_id
)

select * from final
