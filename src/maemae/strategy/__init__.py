"""maemae.strategy"""
