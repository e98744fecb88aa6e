"""Content's HTTP doors: the public reads (delivery), the editors' workflow (editorial), signed
draft previews (preview), and the cached reads answered before the framework (fast_reads)."""
