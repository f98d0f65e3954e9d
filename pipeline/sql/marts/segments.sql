-- The `segments` mart (CONTRACT §4): per member, RFM with its segment, the weighted
-- relationship scorecard, the tier with its action, and the lifecycle stage.
-- Grain: one row per member of stg_members, in member_id order.
--
-- Relations: stg_members (member_id, join_date), member_purchases
-- (int_member_purchases.sql at the cut-off), stg_complaints (member_id, received_at,
-- satisfaction), int_rfm (int_rfm.sql at the cut-off), indicators (position, name,
-- weight, method, low, high, missing_score, window_months), tiers (name, min_score,
-- action).
-- Parameters: $as_of (the cut-off day: everything before the midnight after it counts),
-- $new_days, $active_days, $lapsed_days (lifecycle).
--
-- Scorecard and lifecycle count a purchase only on a positive row (a return does not
-- make a lapsed member active); spend is net of returns, floored at 0; "days ago" are
-- calendar days back from the cut-off day; "the last N months" is [cut-off - N months,
-- cut-off). Transactions (int_member_purchases.sql measures them) and complaints of
-- unknown members are ignored. One score_<name> column per measure; the step keeps
-- those of the configured indicators, in their order.
with

members as (
    select member_id, join_date::date as join_date
    from stg_members
),

purchases as (
    select member_id, window_spend_cny, window_purchases, latest_days, first_days,
           first_inside_days, last_before_days
    from member_purchases
),

complaints as (
    select member_id, received_at::timestamp as received_at, satisfaction::double as satisfaction
    from stg_complaints
),

rfm as (
    select member_id, recency_days, frequency, monetary, r_score, f_score, m_score, rfm_segment
    from int_rfm
),

card as (
    select position, name, weight::double as weight, method, low::double as low,
           high::double as high, missing_score::double as missing_score, window_months
    from indicators
),

tier_rules as (
    select name, min_score::double as min_score, action
    from tiers
),

cutoff as (
    select $as_of::date as as_of_date, $as_of::date + interval 1 day as cutoff_at
),

-- Where the complaint measures' months start (12 months for a measure not configured;
-- int_member_purchases.sql has the purchase measures').
windows as (
    select
        name,
        cutoff.cutoff_at - to_months(window_months) as window_from
    from card, cutoff
),

window_of as (
    select
        coalesce(max(window_from) filter (where name = 'complaints'),
                 max(cutoff_at - to_months(12)))                        as complaints_from,
        coalesce(max(window_from) filter (where name = 'satisfaction'),
                 max(cutoff_at - to_months(12)))                        as satisfaction_from
    from cutoff
    left join windows on true
),

complaint_measures as (
    select
        complaints.member_id,
        count(*) filter (where received_at >= complaints_from)              as complaints,
        sum(satisfaction) filter (where received_at >= satisfaction_from)   as rating_total,
        count(satisfaction) filter (where received_at >= satisfaction_from) as ratings
    from complaints, window_of, cutoff
    where complaints.received_at < cutoff.cutoff_at
      and complaints.received_at >= least(complaints_from, satisfaction_from)
      and complaints.member_id in (select member_id from members)
    group by complaints.member_id
),

-- Raw measures, null where missing.
measures as (
    select
        members.member_id,
        greatest(coalesce(purchases.window_spend_cny, 0), 0)::double        as spend,
        coalesce(purchases.window_purchases, 0)::double                     as frequency,
        greatest(date_diff('day', members.join_date, cutoff.as_of_date), 0)::double / 365.25
                                                                             as tenure,
        purchases.latest_days::double                                       as recency,
        coalesce(complaint_measures.complaints, 0)::double                  as complaints,
        case when complaint_measures.ratings > 0
             then complaint_measures.rating_total / complaint_measures.ratings end
                                                                             as satisfaction,
        null::double                                                         as referrals
    from members
    cross join cutoff
    left join purchases using (member_id)
    left join complaint_measures using (member_id)
),

long_measures as (
    select member_id, measure, raw
    from measures
    unpivot include nulls (
        raw for measure in (spend, frequency, tenure, recency, complaints, satisfaction,
                            referrals)
    )
),

-- One row per member and configured indicator. Not materialised (two readers): at a
-- million members the copy of seven million wide rows was the step's peak memory.
configured as not materialized (
    select long_measures.member_id, long_measures.raw, card.*
    from long_measures
    join card on card.name = long_measures.measure
),

-- Percentile: the share of the other members with a value whose value is strictly
-- lower (pandas' rank(method="min") - 1), from the count of members per distinct value.
percentile_values as (
    select name, raw, count(*) as members
    from configured
    where method = 'percentile' and raw is not null
    group by name, raw
),

percentile_ranks as (
    select
        name,
        raw,
        (sum(members) over (partition by name order by raw) - members)::bigint as below,
        (sum(members) over (partition by name))::bigint                         as known
    from percentile_values
),

ranked as (
    select configured.*, percentile_ranks.below, percentile_ranks.known
    from configured
    left join percentile_ranks using (name, raw)
),

indicator_scores as (
    select
        member_id,
        position,
        name,
        weight,
        case
            when raw is null then missing_score
            when method = 'percentile' and known <= 1 then 50::double
            when method = 'percentile' then 100::double * below / (known - 1)
            when method = 'linear'
                then 100::double * least(greatest((raw - low) / (high - low), 0::double), 1::double)
            else 100::double
                * (1::double - least(greatest((raw - low) / (high - low), 0::double), 1::double))
        end as score
    from ranked
),

-- Weighted total added in the indicators' order (left to right, the same float sums as
-- adding them one by one), divided by the sum of the weights; scores rounded half to
-- even to 1 decimal.
total_weight as (
    select list_reduce(list(weight order by position), lambda a, b: a + b) as total_weight
    from card
),

weighted as (
    select
        member_id,
        -- one column per position (at most seven indicators, one per measure)
        coalesce(any_value(weight * score) filter (where position = 0), 0::double) as w0,
        coalesce(any_value(weight * score) filter (where position = 1), 0::double) as w1,
        coalesce(any_value(weight * score) filter (where position = 2), 0::double) as w2,
        coalesce(any_value(weight * score) filter (where position = 3), 0::double) as w3,
        coalesce(any_value(weight * score) filter (where position = 4), 0::double) as w4,
        coalesce(any_value(weight * score) filter (where position = 5), 0::double) as w5,
        coalesce(any_value(weight * score) filter (where position = 6), 0::double) as w6,
        any_value(roundbankers(score * 10, 0) / 10) filter (where name = 'spend')
                                                                             as score_spend,
        any_value(roundbankers(score * 10, 0) / 10) filter (where name = 'frequency')
                                                                             as score_frequency,
        any_value(roundbankers(score * 10, 0) / 10) filter (where name = 'tenure')
                                                                             as score_tenure,
        any_value(roundbankers(score * 10, 0) / 10) filter (where name = 'recency')
                                                                             as score_recency,
        any_value(roundbankers(score * 10, 0) / 10) filter (where name = 'complaints')
                                                                             as score_complaints,
        any_value(roundbankers(score * 10, 0) / 10) filter (where name = 'satisfaction')
                                                                             as score_satisfaction,
        any_value(roundbankers(score * 10, 0) / 10) filter (where name = 'referrals')
                                                                             as score_referrals
    from indicator_scores
    group by member_id
),

scorecard as (
    select
        weighted.* exclude (w0, w1, w2, w3, w4, w5, w6),
        roundbankers((w0 + w1 + w2 + w3 + w4 + w5 + w6) / total_weight * 10, 0) / 10 as score
    from weighted, total_weight
),

-- The tier with the highest min_score at or below the score.
tiered as (
    select
        scorecard.member_id,
        arg_max(tier_rules.name, tier_rules.min_score)   as tier,
        arg_max(tier_rules.action, tier_rules.min_score) as action
    from scorecard
    join tier_rules on tier_rules.min_score <= scorecard.score
    group by scorecard.member_id
),

-- The first stage whose test holds: prospect, new, won_back, active, lapsing, lapsed.
lifecycle as (
    select
        members.member_id,
        case
            when purchases.latest_days is null then 'prospect'
            when purchases.first_days <= $new_days then 'new'
            when purchases.last_before_days - purchases.first_inside_days
                 > $lapsed_days then 'won_back'
            when purchases.latest_days <= $active_days then 'active'
            when purchases.latest_days <= $lapsed_days then 'lapsing'
            else 'lapsed'
        end as lifecycle_stage
    from members
    left join purchases using (member_id)
),

final as (
    select
        members.member_id,
        rfm.recency_days,
        rfm.frequency,
        rfm.monetary,
        rfm.r_score,
        rfm.f_score,
        rfm.m_score,
        rfm.rfm_segment,
        scorecard.score,
        tiered.tier::varchar              as tier,
        tiered.action::varchar            as action,
        lifecycle.lifecycle_stage::varchar as lifecycle_stage,
        scorecard.score_spend,
        scorecard.score_frequency,
        scorecard.score_tenure,
        scorecard.score_recency,
        scorecard.score_complaints,
        scorecard.score_satisfaction,
        scorecard.score_referrals
    from members
    left join rfm using (member_id)
    left join scorecard using (member_id)
    left join tiered using (member_id)
    left join lifecycle using (member_id)
)

select * from final
order by member_id
