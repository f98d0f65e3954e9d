"""Delivery: e-mails, SMS, the mailing-house archive, the edition folder and its checks."""
