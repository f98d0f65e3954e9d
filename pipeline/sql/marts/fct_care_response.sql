-- What works: of the members greeted in the last complete months, the share who bought
-- within $response_days days, per kind family and channel; beside it the same share for
-- members who were due the same greeting and were suppressed or unreachable.
-- Relations: contacts (member_id, contact_date, channel, purpose), plans (member_id,
-- kind, channel, greeted_on, grp) from earlier editions, purpose_kinds (purpose, kind),
-- transactions (member_id, txn_at). Parameters: $as_of, $months, $response_days.
with

-- import CTEs --------------------------------------------------------------------------

history as (
    select
        c.member_id,
        coalesce(p.kind, case when split_part(c.purpose, '-', 1)
                                   in ('birthday', 'festival', 'anniversary', 'newsletter')
                              then split_part(c.purpose, '-', 1) end) as kind,
        coalesce(nullif(trim(lower(c.channel)), ''), 'unknown') as channel,
        c.contact_date::date as greeted_on,
        'greeted' as grp
    from contacts as c
    left join purpose_kinds as p on p.purpose = trim(c.purpose)
),

planned as (
    select member_id, split_part(kind, '-', 1) as kind, channel, greeted_on::date as greeted_on, grp
    from plans
),

purchases as (
    select member_id, txn_at::date as bought_on from transactions where member_id is not null
),

-- logic CTEs ----------------------------------------------------------------------------

greetings as (
    -- one greeting per member, kind, channel and month, on its first day; the window
    -- must be complete
    select member_id, kind, channel, grp,
           date_trunc('month', greeted_on) as month, min(greeted_on) as greeted_on
    from (select * from history union all select * from planned)
    where kind is not null
      and greeted_on + $response_days::integer <= $as_of::date
      and greeted_on >= date_trunc('month', $as_of::date) - to_months($months::integer)
    group by member_id, kind, channel, grp, date_trunc('month', greeted_on)
),

answered as (
    select
        g.kind, g.channel, g.grp, g.member_id, g.month,
        exists (
            select 1 from purchases as p
            where p.member_id = g.member_id
              and p.bought_on > g.greeted_on
              and p.bought_on <= g.greeted_on + $response_days::integer
        ) as has_responded
    from greetings as g
)

select
    kind,
    channel,
    grp                                               as "group",
    count(*)                                          as members,
    count(*) filter (where has_responded)             as responded,
    round(count(*) filter (where has_responded) / count(*), 4) as response_rate
from answered
group by kind, channel, grp
order by kind, grp desc, channel
