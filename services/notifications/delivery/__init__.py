"""The channels a message leaves by: email over SMTP."""
