"""maemae.engine"""
