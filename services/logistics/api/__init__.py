"""HTTP doors of the logistics service, one module per noun: bookings, partners, incidents. A
handler decodes the request, calls one use case and returns its view."""

from litestar.di import NamedDependency

from services.logistics.usecases import BookingCollaborators

# How routes ask for what a booking command needs: `bookings: BookingCollaboratorsDependency`.
BookingCollaboratorsDependency = NamedDependency[BookingCollaborators]
