"""The platform's kernel: database, unit of work, events and hooks, clock, errors, audit chain,
jobs, serial numbers, the typed models and their migrations. It imports no other room."""
