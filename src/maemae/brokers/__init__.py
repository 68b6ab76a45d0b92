"""maemae.brokers"""
