"""Who acts and what they may do: credentials and sessions, actors and grants, users, groups and
roles."""
