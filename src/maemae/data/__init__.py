"""maemae.data"""
