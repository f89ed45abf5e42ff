"""Rules at run time: an app's compiled rule book, rules reacting to record and task events,
their effects, timers and schedules, SLA policies, assignment strategies and what-if replays."""
