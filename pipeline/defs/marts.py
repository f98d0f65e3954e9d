"""The derived tables every edition publishes under tables/ and loads into `marts.*`."""

MARTS = [
    "segments",
    "churn_risk",
    "upcoming_birthdays",
    "anniversaries",
    "holidays",
    "complaint_stats",
    "complaint_backlog",
    "complaint_overdue_by_owner",
    "complaint_anomalies",
    "agg_monthly_activity",
    "contact_plan",
    "suppressed",
    "returned_addresses",
    "care_response",
]
