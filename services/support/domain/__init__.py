"""The support desk's rules, pure: given the facts and `now`."""
