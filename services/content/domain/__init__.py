"""Content's rules, pure and synchronous (stdlib, msgspec, contracts; time comes in as `now`):
the documents editors write (documents), what may be published (publishing), the editorial
transitions and what they record and announce (editorial), which locale serves a reader
(locales), and what changed between revisions (revisions)."""
