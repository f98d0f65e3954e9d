"""The club's rules over staged data: segments, calendars, birthdays, complaints, the contact plan."""
