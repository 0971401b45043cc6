"""Canopy's AS2 vocabulary (docs/architecture.md §3): the extension terms as typed accessors
(:mod:`.terms`), the changes an activity makes, parsed once (:mod:`.changes`), the one set of
builders of canonical activities (:mod:`.builders`) and the post kinds' AS2 types
(:mod:`.post_kinds`). One idea per module; import them from there (this package imports
nothing, so :mod:`canopy_common.events` may use :mod:`.terms`)."""
