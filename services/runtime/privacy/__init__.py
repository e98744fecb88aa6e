"""Personal data at rest and in transit: key rings that seal it, and the record of every
disclosure."""
