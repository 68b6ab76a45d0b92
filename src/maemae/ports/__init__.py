"""Ports: the interfaces the trading core needs from the outside world (broker, clock, state store).

They live apart from both sides so that ``execution`` and ``engine`` depend on an interface, and ``brokers``
implement it, without either importing the other (DESIGN 1.3 and 4).
"""
