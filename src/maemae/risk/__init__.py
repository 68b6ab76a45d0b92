"""maemae.risk"""
