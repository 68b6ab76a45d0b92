"""maemae.store"""
