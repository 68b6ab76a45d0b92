"""maemae.config"""
