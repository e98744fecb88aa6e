"""HTTP doors of the notifications service: the staff's view of delivery."""
