"""The rules of a case, pure: given the current state, a command and `now`, each decision
returns the new state, the timeline entries and the events to announce, or refuses with a
DomainError. No I/O and no clock: the use cases load, call these, and save what they return."""
