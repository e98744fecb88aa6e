"""A service as a whole: its definition, the app factory that wires the other rooms, the admin
routes every service has, and the server that runs it."""
