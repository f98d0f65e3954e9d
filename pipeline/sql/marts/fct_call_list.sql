-- The staff call list (回访): one row per member to call this edition, highest priority
-- first. Every value comes in as a bound parameter:
--   $as_of, $edition_start        dates
--   $follow_up_days               complaints resolved in (as_of - N days, as_of] are called back
--   $due_days                     undated calls are due by edition_start + N - 1
--   $birthday_tiers               tiers whose (non-milestone) birthdays get a call
--   $reasons                      reason codes, most urgent first (priority order)
--   $owner_key, $owner_important, $owner_ordinary   the default owner per tier
with

-- import CTEs --------------------------------------------------------------------------

people as (
    select
        member_id, name, phone,
        coalesce(is_deceased, false) or coalesce(is_do_not_contact, false) as is_off_limits,
        coalesce(has_consent_post, false)
            and nullif(trim(address), '') is not null
            and regexp_full_match(coalesce(trim(postal_code), ''), '[0-9]{6}') as can_post,
        coalesce(has_consent_email, false) and nullif(trim(email), '') is not null as can_email,
        coalesce(has_consent_sms, false) and nullif(trim(phone), '') is not null as can_sms
    from members
),

tiers as (
    select member_id, tier, recency_days from segments
),

-- logic CTEs ----------------------------------------------------------------------------

churn as (
    select
        member_id,
        'churn_risk' as reason,
        null::date as due_on,
        null::varchar as complaint_owner,
        '流失风险（' || replace(replace(replace(reason, 'lapsing', '近期未消费'),
                                     'lapsed', '超过一年未消费'),
                             'open_complaint', '有未解决的投诉')
            || '）：致电问候，了解近况与需要' as point
    from churn_risk
),

milestones as (
    select
        member_id,
        'milestone_birthday' as reason,
        birthday::date as due_on,
        null::varchar as complaint_owner,
        strftime(birthday::date, '%m月%d日') || ' ' || age::varchar
            || ' 岁整寿：生日当天致电祝贺' as point
    from birthdays
    where milestone
),

key_birthdays as (
    select
        b.member_id,
        'key_member_birthday' as reason,
        b.birthday::date as due_on,
        null::varchar as complaint_owner,
        strftime(b.birthday::date, '%m月%d日') || ' 生日：生日当天致电祝贺' as point
    from birthdays as b
    join tiers as t using (member_id)
    where not coalesce(b.milestone, false) and list_contains($birthday_tiers, t.tier)
),

follow_ups as (
    select
        member_id,
        'complaint_follow_up' as reason,
        null::date as due_on,
        nullif(trim(owner), '') as complaint_owner,
        '投诉 ' || complaint_id || coalesce('（' || nullif(trim(category), '') || '）', '')
            || ' 已于 ' || strftime(resolved_at::date, '%m月%d日')
            || ' 解决：首问负责人回访，确认是否满意' as point
    from complaints
    where is_known_member
      and resolved_at is not null
      and resolved_at::date <= $as_of::date
      and resolved_at::date > $as_of::date - $follow_up_days::integer
      and coalesce(status, 'resolved') in ('resolved', 'closed')
),

unreachable as (
    select
        p.member_id,
        'unreachable_valuable' as reason,
        null::date as due_on,
        null::varchar as complaint_owner,
        '邮寄、邮件、短信均无法送达（无授权或联系方式不全）：核实联系方式并征求授权' as point
    from people as p
    join tiers as t using (member_id)
    left join returned as r using (member_id)
    where t.tier in ('key', 'important')
      and not ((p.can_post and r.member_id is null) or p.can_email or p.can_sms)
),

address_checks as (
    select
        member_id,
        'address_check' as reason,
        null::date as due_on,
        null::varchar as complaint_owner,
        strftime(returned_on::date, '%m月%d日') || ' 信件被退回'
            || coalesce('（' || nullif(trim(reason), '') || '）', '')
            || '：核实邮寄地址并在系统中更新' as point
    from returned
),

reasons as (
    select * from churn
    union all select * from milestones
    union all select * from key_birthdays
    union all select * from follow_ups
    union all select * from unreachable
    union all select * from address_checks
),

ranked as (
    select
        r.*,
        list_position($reasons, r.reason) as reason_rank,
        row_number() over (
            partition by r.member_id
            order by list_position($reasons, r.reason), r.due_on nulls last, r.point
        ) as nth
    from reasons as r
    where list_contains($reasons, r.reason)  -- a reason left out of calls.reasons is off
),

points as (
    select member_id, string_agg(point, '；' order by nth) as talking_points
    from ranked
    group by member_id
),

callable as (
    select
        ranked.member_id,
        p.name,
        p.phone,
        t.tier,
        ranked.reason,
        ranked.reason_rank,
        coalesce(ranked.due_on, $edition_start::date + ($due_days::integer - 1)) as due_on,
        ranked.complaint_owner,
        points.talking_points
    from ranked
    join points using (member_id)
    join people as p using (member_id)
    left join tiers as t using (member_id)
    where ranked.nth = 1
      and not p.is_off_limits
      and nullif(trim(p.phone), '') is not null
)

select
    member_id,
    name,
    phone,
    reason,
    row_number() over (
        order by reason_rank,
                 case tier when 'key' then 1 when 'important' then 2 else 3 end,
                 due_on, member_id
    ) as priority,
    due_on,
    coalesce(complaint_owner,
             case tier when 'key' then $owner_key
                       when 'important' then $owner_important
                       else $owner_ordinary end) as owner,
    talking_points,
    '' as called_at,
    '' as outcome,
    '' as notes,
    strftime($edition_start::date, '%Y%m') || '-call-' || member_id as call_id
from callable
order by priority
