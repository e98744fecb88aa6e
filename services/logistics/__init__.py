"""The logistics service.

Airport transfer, interpreter and medicine-shipment bookings, dispatched to partner providers
over NATS.
"""
