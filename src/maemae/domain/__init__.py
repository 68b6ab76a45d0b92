"""Values and entities of the trading domain: no I/O, no clock, no other maemae package but ``errors``."""
