"""maemae.alerts"""
