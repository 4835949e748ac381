"""rom package (filled by its own issue; see DESIGN.md)."""
