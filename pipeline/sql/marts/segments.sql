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

-- Where the complaint measures' months start (`window_start`; int_member_purchases.sql
-- has the purchase measures').
window_of as (
    select
        window_start(cutoff.cutoff_at, complaints.window_months) as complaints_from,
        window_start(cutoff.cutoff_at, satisfaction.window_months) as satisfaction_from
    from cutoff
    left join card as complaints on complaints.name = 'complaints'
    left join card as satisfaction on satisfaction.name = 'satisfaction'
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

-- Raw measures, null where missing, and what the lifecycle stage reads.
measures as (
    select
        members.member_id,
        greatest(coalesce(purchases.window_spend_cny, 0), 0)::double        as spend,
        coalesce(purchases.window_purchases, 0)::double                     as frequency,
        -- (a blank join_date is missing: `greatest` alone would make it 0)
        case when members.join_date is not null
             then greatest(date_diff('day', members.join_date, cutoff.as_of_date), 0)::double
                  / 365.25 end                                              as tenure,
        purchases.latest_days::double                                       as recency,
        coalesce(complaint_measures.complaints, 0)::double                  as complaints,
        case when complaint_measures.ratings > 0
             then complaint_measures.rating_total / complaint_measures.ratings end
                                                                             as satisfaction,
        null::double                                                         as referrals,
        purchases.latest_days,
        purchases.first_days,
        purchases.first_inside_days,
        purchases.last_before_days
    from members
    cross join cutoff
    left join purchases using (member_id)
    left join complaint_measures using (member_id)
),

-- The scorecard is computed one column per measure, one row per member: turning the
-- measures into seven rows per member and back cost 2 s of 3 at a million members.
-- Each measure's indicator as one row (NULL: the measure is not configured).
lines as (
    select
        any_value(card) filter (where card.name = 'spend') as spend,
        any_value(card) filter (where card.name = 'frequency') as frequency,
        any_value(card) filter (where card.name = 'tenure') as tenure,
        any_value(card) filter (where card.name = 'recency') as recency,
        any_value(card) filter (where card.name = 'complaints') as complaints,
        any_value(card) filter (where card.name = 'satisfaction') as satisfaction,
        any_value(card) filter (where card.name = 'referrals') as referrals
    from card
),

-- The measure at each position of the indicators' order, as its index into a member's
-- list of weighted scores (`scorecard.weighted`, which lists the measures in the order of
-- `measure_names`); NULL past the last indicator.
positions as (
    select
        any_value(list_position(measure_names, name)) filter (where position = 0) as p0,
        any_value(list_position(measure_names, name)) filter (where position = 1) as p1,
        any_value(list_position(measure_names, name)) filter (where position = 2) as p2,
        any_value(list_position(measure_names, name)) filter (where position = 3) as p3,
        any_value(list_position(measure_names, name)) filter (where position = 4) as p4,
        any_value(list_position(measure_names, name)) filter (where position = 5) as p5,
        any_value(list_position(measure_names, name)) filter (where position = 6) as p6
    from card,
         (select ['spend', 'frequency', 'tenure', 'recency', 'complaints', 'satisfaction',
                  'referrals'] as measure_names)
),

-- Percentile: the share of the other members with a value whose value is strictly
-- lower (pandas' rank(method="min") - 1), from the count of members per distinct value
-- of each measure scored by percentile (UNPIVOT leaves the blanks out).
percentile_values as (
    select long_measures.measure, long_measures.raw, count(*) as members
    from (
        unpivot measures
        on spend, frequency, tenure, recency, complaints, satisfaction, referrals
        into name measure value raw
    ) as long_measures
    join card on card.name = long_measures.measure and card.method = 'percentile'
    group by long_measures.measure, long_measures.raw
),

percentile_ranks as (
    select
        measure,
        raw,
        (sum(members) over (partition by measure order by raw) - members)::bigint as below,
        (sum(members) over (partition by measure))::bigint                         as known
    from percentile_values
),

-- Each measure's score 0-100 (`indicator_score`, sql/marts/macros.sql), NULL where the
-- measure is not configured.
scores as (
    select
        measures.member_id,
        measures.latest_days,
        measures.first_days,
        measures.first_inside_days,
        measures.last_before_days,
        indicator_score(measures.spend, lines.spend,
                        spend_rank.below, spend_rank.known) as spend_score,
        indicator_score(measures.frequency, lines.frequency,
                        frequency_rank.below, frequency_rank.known) as frequency_score,
        indicator_score(measures.tenure, lines.tenure,
                        tenure_rank.below, tenure_rank.known) as tenure_score,
        indicator_score(measures.recency, lines.recency,
                        recency_rank.below, recency_rank.known) as recency_score,
        indicator_score(measures.complaints, lines.complaints,
                        complaints_rank.below, complaints_rank.known) as complaints_score,
        indicator_score(measures.satisfaction, lines.satisfaction,
                        satisfaction_rank.below, satisfaction_rank.known) as satisfaction_score,
        indicator_score(measures.referrals, lines.referrals,
                        referrals_rank.below, referrals_rank.known) as referrals_score
    from measures
    cross join lines
    left join percentile_ranks as spend_rank
        on spend_rank.measure = 'spend' and spend_rank.raw = measures.spend
    left join percentile_ranks as frequency_rank
        on frequency_rank.measure = 'frequency' and frequency_rank.raw = measures.frequency
    left join percentile_ranks as tenure_rank
        on tenure_rank.measure = 'tenure' and tenure_rank.raw = measures.tenure
    left join percentile_ranks as recency_rank
        on recency_rank.measure = 'recency' and recency_rank.raw = measures.recency
    left join percentile_ranks as complaints_rank
        on complaints_rank.measure = 'complaints' and complaints_rank.raw = measures.complaints
    left join percentile_ranks as satisfaction_rank
        on  satisfaction_rank.measure = 'satisfaction'
        and satisfaction_rank.raw = measures.satisfaction
    left join percentile_ranks as referrals_rank
        on referrals_rank.measure = 'referrals' and referrals_rank.raw = measures.referrals
),

-- Weighted total added in the indicators' order (left to right, the same float sums as
-- adding them one by one), divided by the sum of the weights; scores rounded half to
-- even to 1 decimal.
total_weight as (
    select list_reduce(list(weight order by position), lambda a, b: a + b) as total_weight
    from card
),

scorecard as (
    select
        scores.* exclude (spend_score, frequency_score, tenure_score, recency_score,
                          complaints_score, satisfaction_score, referrals_score),
        [lines.spend.weight * scores.spend_score,
         lines.frequency.weight * scores.frequency_score,
         lines.tenure.weight * scores.tenure_score,
         lines.recency.weight * scores.recency_score,
         lines.complaints.weight * scores.complaints_score,
         lines.satisfaction.weight * scores.satisfaction_score,
         lines.referrals.weight * scores.referrals_score] as weighted,
        roundbankers(scores.spend_score * 10, 0) / 10 as score_spend,
        roundbankers(scores.frequency_score * 10, 0) / 10 as score_frequency,
        roundbankers(scores.tenure_score * 10, 0) / 10 as score_tenure,
        roundbankers(scores.recency_score * 10, 0) / 10 as score_recency,
        roundbankers(scores.complaints_score * 10, 0) / 10 as score_complaints,
        roundbankers(scores.satisfaction_score * 10, 0) / 10 as score_satisfaction,
        roundbankers(scores.referrals_score * 10, 0) / 10 as score_referrals
    from scores, lines
),

totals as (
    select
        scorecard.* exclude (weighted),
        roundbankers((coalesce(weighted[p0], 0::double) + coalesce(weighted[p1], 0::double)
                      + coalesce(weighted[p2], 0::double) + coalesce(weighted[p3], 0::double)
                      + coalesce(weighted[p4], 0::double) + coalesce(weighted[p5], 0::double)
                      + coalesce(weighted[p6], 0::double))
                     / total_weight * 10, 0) / 10 as score
    from scorecard, positions, total_weight
),

-- The tier with the highest min_score at or below the score, per distinct score (one
-- decimal: at most 1,001 of them).
score_tiers as (
    select
        scored.score,
        arg_max(tier_rules.name, tier_rules.min_score)   as tier,
        arg_max(tier_rules.action, tier_rules.min_score) as action
    from (select distinct score from totals) as scored
    join tier_rules on tier_rules.min_score <= scored.score
    group by scored.score
),

final as (
    select
        totals.member_id,
        rfm.recency_days,
        rfm.frequency,
        rfm.monetary,
        rfm.r_score,
        rfm.f_score,
        rfm.m_score,
        rfm.rfm_segment,
        totals.score,
        score_tiers.tier::varchar   as tier,
        score_tiers.action::varchar as action,
        -- the first stage whose test holds: prospect, new, won_back, active, lapsing, lapsed
        case
            when totals.latest_days is null then 'prospect'
            when totals.first_days <= $new_days then 'new'
            when totals.last_before_days - totals.first_inside_days > $lapsed_days
                then 'won_back'
            when totals.latest_days <= $active_days then 'active'
            when totals.latest_days <= $lapsed_days then 'lapsing'
            else 'lapsed'
        end::varchar                as lifecycle_stage,
        totals.score_spend,
        totals.score_frequency,
        totals.score_tenure,
        totals.score_recency,
        totals.score_complaints,
        totals.score_satisfaction,
        totals.score_referrals
    from totals
    left join rfm using (member_id)
    left join score_tiers using (score)
)

select * from final
order by member_id
